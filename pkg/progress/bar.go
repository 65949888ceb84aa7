package progress

import (
	"fmt"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// newBar draws a step: its name, a bar (a spinner while nothing is known
// to count), the count, the status and the elapsed time:
//
//	Pushing image paude-proxy  [=====>------]  12.0 MiB / 48.0 MiB  1m4s
//	Waiting for pod paude-x    [  ⠙  ]  Pending: ContainerCreating  12s
func newBar(p *mpb.Progress, s *Step) *mpb.Bar {
	name := decor.Name(s.name, decor.WC{C: decor.DindentRight | decor.DextraSpace | decor.DSyncWidth})
	var counter decor.Decorator
	switch s.unit {
	case Bytes:
		counter = decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncSpace)
		if s.total <= 0 {
			counter = decor.Current(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace)
		}
	case Items:
		// The total may come later (a build learns its step count
		// from its first line).
		counter = decor.Any(func(st decor.Statistics) string {
			if st.Total <= 0 {
				return ""
			}
			return fmt.Sprintf("%d/%d", st.Current, st.Total)
		}, decor.WCSyncSpace)
	default:
		counter = decor.Any(func(decor.Statistics) string { return "" })
	}
	// A finished step's status is stale; a failed one's says where it
	// stopped.
	status := decor.Any(func(st decor.Statistics) string {
		if st.Completed {
			return ""
		}
		return s.statusText()
	}, decor.WC{C: decor.DextraSpace})
	opts := []mpb.BarOption{
		mpb.PrependDecorators(name),
		mpb.AppendDecorators(
			decor.OnAbort(decor.OnComplete(counter, "done"), "failed"),
			status,
			decor.Elapsed(decor.ET_STYLE_GO, decor.WC{C: decor.DextraSpace}),
		),
		mpb.BarFillerClearOnComplete(),
		mpb.BarFillerClearOnAbort(),
	}
	if s.unit == Nothing || s.unit == Bytes && s.total <= 0 {
		// Nothing to count: a spinner says it is alive.
		return p.AddSpinner(0, opts...)
	}
	return p.AddBar(s.total, opts...)
}
