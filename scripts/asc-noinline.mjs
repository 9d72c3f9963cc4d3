// asc transform (scripts/build.mjs passes it to the release build): functions Binaryen
// must not inline.
//
// At -O3 with shrinkLevel 0 Binaryen inlines any function of up to 70 nodes into every
// caller. A few small functions are called from dozens to hundreds of places where the
// call costs next to nothing, and their copies were a quarter of the code (measured on
// the release build, instructions per request by bench/callgrind.mjs):
//   - the GC's __visit, inlined into every field of every class's visitor and every
//     global's (__visit_members, __collect): 20.6 KiB; a collection runs once per ≥ 2048
//     allocations, so the call adds ~45 instructions per request (0.15 %);
//   - handleGet, inlined into each of the ~100 ABI exports that resolve a handle:
//     8.3 KiB for ~95 instructions per request (0.3 %);
//   - eqAscii, the header-name comparison of the message checks, inlined 75 times:
//     1.5 KiB for ~36 instructions per request (0.1 %).
// The rest are error, shutdown and settings paths that a request never takes: 2.2 KiB.
// (shrinkLevel 1, which stops all such inlining, gives 97.6 KiB but costs 5.4 %.)
//
// The marks are set after compilation, before optimisation (asc's afterCompile hook),
// with Binaryen's own no-inline pass. A pattern that matches no function any more is
// reported, so a rename does not silently bring the copies back.
const NO_INLINE = [
  '~lib/rt/tcms/__visit',
  'assembly/ffi/handles/handleGet',
  'assembly/proto/message-chars/eqAscii',
  // Never on a request's path: failures, shutdown, SETTINGS and PING, options.
  'assembly/proto/connection/Connection#connectionError',
  'assembly/proto/connection/Connection#resetStream',
  'assembly/proto/connection/Connection#peerStreamError*',
  'assembly/proto/connection/Connection#closeAllStreams',
  'assembly/proto/connection/Connection#beginDraining',
  'assembly/proto/connection/Connection#enterClosed',
  'assembly/proto/connection/Connection#failPending',
  'assembly/proto/connection/Connection#dropQueued',
  'assembly/proto/connection/Connection#abandonOutput',
  'assembly/proto/connection/Connection#goaway',
  'assembly/proto/connection/Connection#finalGoaway',
  'assembly/proto/connection/Connection#gracefulShutdown',
  'assembly/proto/connection/Connection#refuse',
  'assembly/proto/connection/Connection#ping',
  'assembly/proto/connection/Connection#sendSettings',
  'assembly/proto/connection/Connection#queueControlReply',
  'assembly/proto/connection/Connection#verdictForUnknown',
  'assembly/proto/connection/Connection#applyVerdict',
  'assembly/proto/connection/Connection#withinRate',
  'assembly/proto/message/MessageValidator#validatePushPromise',
  'assembly/proto/message/MessageValidator#fail',
  'assembly/frame/errors/FrameError#*',
  'assembly/frame/decoder/FrameDecoder#raise',
  'assembly/frame/settings/checkSetting',
  'assembly/hpack/decoder/Decoder#fail*',
  'assembly/hpack/decoder/Decoder#stringFail',
  'assembly/hpack/*#setMaxTableSize',
  'assembly/hpack/dynamic-table/DynamicTable#setMaxSize',
  'assembly/ffi/errors/newError',
  'assembly/util/messages/msg',
  'assembly/ffi/body/streamError',
  'assembly/ffi/conn-driver/ConnDriver#fail',
  'assembly/ffi/conn-driver/ConnDriver#errorHandle',
  'assembly/ffi/conn-driver/ConnDriver#notifyEverything',
  'assembly/ffi/conn-roles/abruptShutdown',
  'assembly/ffi/conn-roles/ping',
  'assembly/ffi/conn-roles/submitSetting',
  'assembly/ffi/conn-roles/setOption',
  'assembly/ffi/conn-roles/settingOf',
  'assembly/ffi/conn-roles/setTargetWindow',
  '~lib/rt/tlsf/initialize',
  '~lib/rt/tcms/initLazy',
  '~lib/string/String.UTF8.encode*',
  // Not on a served request's path (callgrind of a build with no inlining at all, calls per
  // request of bench/callgrind.mjs's load: < 0.03): client side, settings, ping, push,
  // trailers, send streams, the start function. Each was copied into 2 to 20 callers.
  '~lib/util/hash/HASH<u64>',
  'assembly/proto/settings/Settings#apply',
  'assembly/proto/settings/Settings#get',
  'assembly/proto/connection/Connection#schedule',
  'assembly/proto/connection/Connection#canSendBody',
  'assembly/ffi/body/SendStream#liveStream',
  'assembly/util/heap/walk',
  'assembly/proto/message-chars/markAll',
  '~lib/map/Map<u64,assembly/ffi/conn-driver/PingTask>#find',
  'assembly/ffi/task/Task#fail',
  '~lib/array/Array<assembly/proto/settings/Settings>#shift',
  'assembly/proto/settings/Settings#copyFrom',
  'assembly/ffi/conn-driver/ConnDriver#get:finished',
  'assembly/proto/ping/PingTracker#finish',
  'assembly/ffi/http/nameIs',
  '~lib/string/String#charCodeAt',
  'assembly/proto/connection/Connection#lingerDeadline',
  '~instanceof|assembly/ffi/task/Disposable',
  '~lib/array/Array<assembly/ffi/task/Task>#indexOf',
  'assembly/ffi/task/Task#finish',
  // Called about once per request (twice for writeFrameHeader and the list removals), with
  // 2 to 9 copies each: 2.3 KiB for ~12 calls, ~0.5 % of a request's instructions.
  'assembly/proto/connection/Connection#syncBudget',
  'assembly/proto/stream-list/StreamList<*>#remove',
  'assembly/frame/header/writeFrameHeader',
  'assembly/ffi/errors/codeOfResult',
  'assembly/proto/budget/Budget#streamAllowed',
  'assembly/hpack/field-list/validateFieldList',
  'assembly/proto/counts/Counts#activate',
  'assembly/proto/connection/Connection#externalAllowance',
];

const wildcard = (p) => new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');

export default class NoInline {
  /** @param {any} module binaryen.js's Module */
  afterCompile(module) {
    // asc sets binaryen and stderr on the transform before calling it.
    const { binaryen, stderr } = /** @type {any} */ (this);
    const names = [];
    for (let i = 0, n = module.getNumFunctions(); i < n; i++)
      names.push(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
    for (const pattern of NO_INLINE) {
      const re = wildcard(pattern);
      if (!names.some((n) => re.test(n))) {
        stderr.write(`asc-noinline: no function matches '${pattern}' (renamed? update scripts/asc-noinline.mjs)\n`);
        continue;
      }
      binaryen.setPassArgument('no-inline', pattern);
      module.runPasses(['no-inline']);
    }
    binaryen.clearPassArguments();
  }
}
