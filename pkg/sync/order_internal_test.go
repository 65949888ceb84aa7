package sync

import (
	"slices"
	"testing"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

func TestOrderItems(t *testing.T) {
	item := func(op wire.Op, p string) pushItem { return pushItem{e: wire.Entry{Op: op, Path: p}} }
	dels := []pushItem{item(wire.OpDelete, "a/b/c"), item(wire.OpDelete, "a"), item(wire.OpDelete, "z/y"), item(wire.OpDelete, "ab"), item(wire.OpDelete, "a/x")}
	puts := []pushItem{item(wire.OpPut, "n/m"), item(wire.OpRename, "n"), item(wire.OpPut, "b")}
	var got []string
	for _, it := range orderItems(dels, puts) {
		got = append(got, it.e.Op.String()+" "+it.e.Path)
	}
	// Deletes first, deepest first, none under a deleted directory
	// ("ab" is not under "a"); then the rest parents first.
	want := []string{"delete z/y", "delete ab", "delete a", "put b", "rename n", "put n/m"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
