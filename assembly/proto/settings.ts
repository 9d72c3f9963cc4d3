// The six RFC 9113 SETTINGS (§6.5.2) plus ENABLE_CONNECT_PROTOCOL (RFC 8441), one
// instance per side of a connection. Values arrive already range-checked by the frame
// decoder; applying them to streams and codecs is the connection's job, in order (§6.5.3).
import { SettingId, DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_FRAME_SIZE } from '../frame/constants';

/** "No limit" for the settings whose initial value is unlimited. */
export const UNLIMITED: u32 = 0xffffffff;

export class Settings {
  headerTableSize: u32 = 4096;
  enablePush: bool = true;
  maxConcurrentStreams: u32 = UNLIMITED;
  initialWindowSize: u32 = DEFAULT_INITIAL_WINDOW_SIZE;
  maxFrameSize: u32 = DEFAULT_MAX_FRAME_SIZE;
  maxHeaderListSize: u32 = UNLIMITED;
  enableConnectProtocol: bool = false;

  /** Applies one entry; unknown identifiers are ignored (§6.5.2). */
  apply(id: u16, value: u32): void {
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        this.headerTableSize = value;
        break;
      case SettingId.ENABLE_PUSH:
        this.enablePush = value != 0;
        break;
      case SettingId.MAX_CONCURRENT_STREAMS:
        this.maxConcurrentStreams = value;
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        this.initialWindowSize = value;
        break;
      case SettingId.MAX_FRAME_SIZE:
        this.maxFrameSize = value;
        break;
      case SettingId.MAX_HEADER_LIST_SIZE:
        this.maxHeaderListSize = value;
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        this.enableConnectProtocol = value != 0;
        break;
      default:
        break;
    }
  }

  /** The value of `id` as it would be sent on the wire. */
  get(id: u16): u32 {
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        return this.headerTableSize;
      case SettingId.ENABLE_PUSH:
        return this.enablePush ? 1 : 0;
      case SettingId.MAX_CONCURRENT_STREAMS:
        return this.maxConcurrentStreams;
      case SettingId.INITIAL_WINDOW_SIZE:
        return this.initialWindowSize;
      case SettingId.MAX_FRAME_SIZE:
        return this.maxFrameSize;
      case SettingId.MAX_HEADER_LIST_SIZE:
        return this.maxHeaderListSize;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        return this.enableConnectProtocol ? 1 : 0;
      default:
        return 0;
    }
  }

  copyFrom(other: Settings): void {
    this.headerTableSize = other.headerTableSize;
    this.enablePush = other.enablePush;
    this.maxConcurrentStreams = other.maxConcurrentStreams;
    this.initialWindowSize = other.initialWindowSize;
    this.maxFrameSize = other.maxFrameSize;
    this.maxHeaderListSize = other.maxHeaderListSize;
    this.enableConnectProtocol = other.enableConnectProtocol;
  }

  /**
   * Whether `id` differs from its initial value, so a SETTINGS frame need carry it.
   * ENABLE_PUSH is always worth sending by a client that refuses push, since a server
   * assumes 1.
   */
  differsFromInitial(id: u16): bool {
    return this.get(id) != INITIAL.get(id);
  }
}

/** The values every endpoint starts from before any SETTINGS frame (§6.5.2). */
const INITIAL = new Settings();

/** The identifiers a SETTINGS frame of ours may carry, in the order we send them. */
export const SENT_SETTINGS: StaticArray<u16> = [
  SettingId.HEADER_TABLE_SIZE,
  SettingId.ENABLE_PUSH,
  SettingId.MAX_CONCURRENT_STREAMS,
  SettingId.INITIAL_WINDOW_SIZE,
  SettingId.MAX_FRAME_SIZE,
  SettingId.MAX_HEADER_LIST_SIZE,
  SettingId.ENABLE_CONNECT_PROTOCOL,
];
