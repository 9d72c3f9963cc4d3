// The instance's memory budget at the ABI (proto/budget.ts does the accounting): one
// setter and one getter for the whole instance, every connection of it sharing the budget.
import { instanceBudget } from '../../proto/budget';
import { H2E_INVALID_ARG, H2E_OK } from '../errors';

/** The budget's keys (the H2_BUDGET_* of the header). */
export namespace BudgetKey {
  export const MEMORY: u32 = 1;
  export const SEND_BYTES: u32 = 2;
  export const RECV_BYTES: u32 = 3;
  export const STREAMS: u32 = 4;
  export const CONNECTIONS: u32 = 5;
  export const USED: u32 = 101;
  export const SEND_BYTES_USED: u32 = 102;
  export const RECV_BYTES_USED: u32 = 103;
  export const STREAMS_OPEN: u32 = 104;
  export const CONNECTIONS_OPEN: u32 = 105;
  export const CONNECTIONS_SHED: u32 = 106;
}

/** Smallest whole budget: below it not even one connection and its buffers fit. */
const MIN_MEMORY: u64 = 1 << 20;

/** Sets a limit (keys 1..5); setting MEMORY derives the other four from it. */
export function h2_budget_set(key: u32, value: u64): u32 {
  const b = instanceBudget;
  switch (key) {
    case BudgetKey.MEMORY:
      if (value < MIN_MEMORY || value > 0xffffffff) return H2E_INVALID_ARG;
      b.setMemory(value);
      break;
    case BudgetKey.SEND_BYTES:
      b.maxSendBytes = value;
      break;
    case BudgetKey.RECV_BYTES:
      b.maxRecvBytes = value;
      break;
    case BudgetKey.STREAMS:
      b.maxStreams = value;
      break;
    case BudgetKey.CONNECTIONS:
      b.maxConnections = value;
      break;
    default:
      return H2E_INVALID_ARG;
  }
  return H2E_OK;
}

/** A limit (keys 1..5) or what is in use (keys 101..106); 0 for an unknown key. */
export function h2_budget_get(key: u32): u64 {
  const b = instanceBudget;
  switch (key) {
    case BudgetKey.MEMORY:
      return b.memory;
    case BudgetKey.SEND_BYTES:
      return b.maxSendBytes;
    case BudgetKey.RECV_BYTES:
      return b.maxRecvBytes;
    case BudgetKey.STREAMS:
      return b.maxStreams;
    case BudgetKey.CONNECTIONS:
      return b.maxConnections;
    case BudgetKey.USED:
      return b.used;
    case BudgetKey.SEND_BYTES_USED:
      return b.sendBytes;
    case BudgetKey.RECV_BYTES_USED:
      return b.recvBytes;
    case BudgetKey.STREAMS_OPEN:
      return b.streams;
    case BudgetKey.CONNECTIONS_OPEN:
      return b.connections;
    case BudgetKey.CONNECTIONS_SHED:
      return b.shedCount;
    default:
      return 0;
  }
}
