import { deleteTopics } from '../schema/apis.js';
import { mayTopic, topicDenied } from '../mapping/authorize.js';
import { ErrorCode, errorCodeFor } from '../mapping/errors.js';
import type { Handler } from './handler.js';
import { isHiddenTopic } from '../mapping/internal-topics.js';
import type { Message } from '../codec/schema-codec.js';

/** DeleteTopics: deletes the stream with its data and its groups' offsets; by name (v0-5) or name/topic id (v6+). */
export const deleteTopicsHandler: Handler = {
  api: deleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, { node, conn, apiVersion }) {
    const vhost = node.vhost();
    const wanted: { name: string | null; topicId: Buffer | null }[] =
      apiVersion >= 6 ? (req.topics as Message[]).map((t) => ({ name: t.name, topicId: t.topicId })) : (req.topicNames as string[]).map((name) => ({ name, topicId: null }));
    const responses: Message[] = [];
    for (const w of wanted) {
      const name = w.name ?? (w.topicId ? node.topicById(w.topicId) : null);
      if (name !== null && !mayTopic(node, conn, name, 'configure')) {
        responses.push({ name: w.name, topicId: w.topicId ?? undefined, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: topicDenied(name, conn.principal) });
        continue;
      }
      if (name === null || !vhost.stream(name) || isHiddenTopic(name)) {
        responses.push({
          name: w.name,
          topicId: w.topicId ?? undefined,
          errorCode: w.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: 'This server does not host this topic.',
        });
        continue;
      }
      try {
        const topicId = node.topicId(name);
        await vhost.deleteStream(name);
        // A topic created again under this name starts with no producers and no open transactions.
        node.producers.forgetTopic(name);
        node.log.info({ topic: name }, 'topic deleted');
        responses.push({ name, topicId, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (e) {
        responses.push({ name, topicId: w.topicId ?? undefined, errorCode: errorCodeFor(e), errorMessage: (e as Error).message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};
