// The DATA scheduler's queue: streams with something to send, served round robin so one
// large body cannot starve small responses. A stream whose own window is closed simply
// is not re-queued until its WINDOW_UPDATE; when the connection window closes, the ring
// stays as it is and waits. An intrusive list (stream-list.ts).
import { StreamList, SendLinks } from './stream-list';

export class SendQueue extends StreamList<SendLinks> {}
