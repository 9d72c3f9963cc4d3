// SETTINGS parameters (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1): the value checks a
// receiver must make, and a fixed-capacity list the encoder serializes from.
import { ErrorCode, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE, Role, SettingId } from './constants';
import { FrameError } from './errors';
import { Msg } from '../util/messages';

/**
 * Checks one received setting. Unknown identifiers pass (§6.5.2: ignore them). Sets a
 * connection error in `err` and returns false on a bad value.
 */
export function checkSetting(err: FrameError, id: u16, value: u32, role: u8): bool {
  switch (id) {
    case SettingId.ENABLE_PUSH: {
      if (value > 1) {
        err.connection(ErrorCode.PROTOCOL_ERROR, Msg.SETTINGS_ENABLE_PUSH_NOT);
        return false;
      }
      if (value == 1 && role == Role.CLIENT) {
        err.connection(ErrorCode.PROTOCOL_ERROR, Msg.SERVER_SENT_SETTINGS_ENABLE_PUSH);
        return false;
      }
      return true;
    }
    case SettingId.INITIAL_WINDOW_SIZE: {
      if (value > MAX_WINDOW_SIZE) {
        err.connection(ErrorCode.FLOW_CONTROL_ERROR, Msg.SETTINGS_INITIAL_WINDOW_SIZE_ABOVE);
        return false;
      }
      return true;
    }
    case SettingId.MAX_FRAME_SIZE: {
      if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
        err.connection(ErrorCode.PROTOCOL_ERROR, Msg.SETTINGS_MAX_FRAME_SIZE_OUTSIDE);
        return false;
      }
      return true;
    }
    case SettingId.ENABLE_CONNECT_PROTOCOL: {
      if (value > 1) {
        err.connection(ErrorCode.PROTOCOL_ERROR, Msg.SETTINGS_ENABLE_CONNECT_PROTOCOL_NOT);
        return false;
      }
      return true;
    }
    case SettingId.NO_RFC7540_PRIORITIES: {
      if (value > 1) {
        err.connection(ErrorCode.PROTOCOL_ERROR, Msg.SETTINGS_NO_RFC7540_PRIORITIES_NOT);
        return false;
      }
      return true;
    }
  }
  // HEADER_TABLE_SIZE, MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE take any u32;
  // anything else is unknown and ignored.
  return true;
}

/** Most entries one SettingsList holds: every known id twice over is plenty. */
export const SETTINGS_LIST_CAPACITY: i32 = 16;

/**
 * The parameters of one outgoing SETTINGS frame, in order. Allocate once (per connection)
 * and `clear()` between frames; adding never allocates.
 */
export class SettingsList {
  private ids: StaticArray<u16> = new StaticArray<u16>(SETTINGS_LIST_CAPACITY);
  private values: StaticArray<u32> = new StaticArray<u32>(SETTINGS_LIST_CAPACITY);
  count: i32 = 0;

  /** Appends (id, value); false when the list is full. Values are not checked here. */
  add(id: u16, value: u32): bool {
    if (this.count >= SETTINGS_LIST_CAPACITY) return false;
    unchecked((this.ids[this.count] = id));
    unchecked((this.values[this.count] = value));
    this.count++;
    return true;
  }

  /** Identifier of entry `i` (0 <= i < count; 0 outside). */
  id(i: i32): u16 {
    return i >= 0 && i < this.count ? unchecked(this.ids[i]) : 0;
  }

  /** Value of entry `i` (0 <= i < count; 0 outside). */
  value(i: i32): u32 {
    return i >= 0 && i < this.count ? unchecked(this.values[i]) : 0;
  }

  clear(): void {
    this.count = 0;
  }
}
