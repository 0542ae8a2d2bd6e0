/**
 * `npm run interop:diff -- <protocol> [args]`: runs interop/<protocol>/diff.ts, whose `main(args)`
 * compares polybroker with a peer broker and returns the exit code.
 */
const [protocol, ...rest] = process.argv.slice(2);
if (!protocol) {
  console.error('usage: npm run interop:diff -- <amqp|mqtt|stomp|kafka> [args]');
  process.exit(2);
}
const mod = (await import(`./${protocol}/diff.ts`)) as { main(args: string[]): Promise<number> };
process.exitCode = await mod.main(rest);
