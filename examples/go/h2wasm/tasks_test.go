package h2wasm

import (
	"math/rand"
	"testing"
)

// TestTaskTable checks the table against a map through random puts and takes, with
// handles as the core makes them (a small slot index, a generation in the high bits).
func TestTaskTable(t *testing.T) {
	var tt taskTable
	ref := map[uint32]int{}
	r := rand.New(rand.NewSource(1))
	var live []uint32
	got := -1
	for step := 0; step < 200000; step++ {
		if len(live) == 0 || (len(live) < 300 && r.Intn(2) == 0) {
			k := uint32(r.Intn(1<<20)+1) | uint32(r.Intn(4096))<<20
			if _, ok := ref[k]; ok {
				continue
			}
			v := step
			ref[k] = v
			live = append(live, k)
			tt.put(k, taskEntry{fn: func(uint32, uint32) { got = v }})
			continue
		}
		i := r.Intn(len(live))
		k := live[i]
		live[i] = live[len(live)-1]
		live = live[:len(live)-1]
		want := ref[k]
		delete(ref, k)
		fn := tt.take(k).fn
		if fn == nil {
			t.Fatalf("step %d: %#x not found", step, k)
		}
		if fn(0, 0); got != want {
			t.Fatalf("step %d: %#x gave the callback of step %d, want %d", step, k, got, want)
		}
		if tt.take(k).fn != nil {
			t.Fatalf("step %d: %#x found after take", step, k)
		}
		if tt.n != len(ref) {
			t.Fatalf("step %d: n %d, want %d", step, tt.n, len(ref))
		}
	}
	for _, k := range live {
		if tt.take(k).fn == nil {
			t.Fatalf("%#x lost", k)
		}
	}
	if tt.take(12345).fn != nil || tt.n != 0 {
		t.Fatal("table not empty at the end")
	}
}
