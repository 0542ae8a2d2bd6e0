import type { StompFrame } from '../codec/frame.js';
import type { StompSession } from '../session.js';

/**
 * One client command. Runs after the session checked the frame's required headers; returns a
 * promise when it must finish before the next frame is handled. Throws StompError or core
 * errors, which the session turns into ERROR + close.
 */
export type Handler = (session: StompSession, frame: StompFrame) => void | Promise<void>;
