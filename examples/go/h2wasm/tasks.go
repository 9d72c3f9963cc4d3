package h2wasm

// taskTable maps the handles of pushed tasks to their callbacks: open addressing with
// linear probing on a power-of-two table, deleted by backward shift. Two tasks per
// request go in and out of it; Go's map spent ~2% of the client's CPU on them.
type taskTable struct {
	keys  []uint32 // 0: empty (no task handle is 0)
	fns   []taskEntry
	n     int
	shift uint32 // 32 - log2(len(keys))
}

// taskEntry is a pushed task's callback; lazy: it gets TypeUnread (PushLazy).
type taskEntry struct {
	fn   TaskFunc
	lazy bool
}

func (t *taskTable) home(k uint32) int { return int((k * 0x9E3779B1) >> t.shift) }

func (t *taskTable) put(k uint32, fn taskEntry) {
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := len(t.keys) - 1
	i := t.home(k)
	for t.keys[i] != 0 && t.keys[i] != k {
		i = (i + 1) & mask
	}
	if t.keys[i] == 0 {
		t.n++
	}
	t.keys[i], t.fns[i] = k, fn
}

// take removes k and returns its callback (a nil fn when k is not there).
func (t *taskTable) take(k uint32) taskEntry {
	if t.n == 0 {
		return taskEntry{}
	}
	mask := len(t.keys) - 1
	i := t.home(k)
	for t.keys[i] != k {
		if t.keys[i] == 0 {
			return taskEntry{}
		}
		i = (i + 1) & mask
	}
	fn := t.fns[i]
	t.n--
	// Backward shift: move up each later entry of the run that may not stay where it is
	// (its home is not cyclically within (i, j]).
	for j := (i + 1) & mask; t.keys[j] != 0; j = (j + 1) & mask {
		h := t.home(t.keys[j])
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			t.keys[i], t.fns[i] = t.keys[j], t.fns[j]
			i = j
		}
	}
	t.keys[i], t.fns[i] = 0, taskEntry{}
	return fn
}

func (t *taskTable) grow() {
	keys, fns := t.keys, t.fns
	size := max(2*len(keys), 64)
	t.keys, t.fns, t.n = make([]uint32, size), make([]taskEntry, size), 0
	t.shift = 32
	for s := size; s > 1; s >>= 1 {
		t.shift--
	}
	for i, k := range keys {
		if k != 0 {
			t.put(k, fns[i])
		}
	}
}
