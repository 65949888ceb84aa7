package podman

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/paude-dev/paude/pkg/config"
)

func TestLimitsFor(t *testing.T) {
	tests := []struct {
		name     string
		res      config.Resources
		cpus     int
		want     limits
		wantNote string
	}{
		{"defaults on a 2-CPU machine", config.Resources{
			Requests: config.ResourceList{CPU: resource.MustParse("1"), Memory: resource.MustParse("4Gi")},
			Limits:   config.ResourceList{CPU: resource.MustParse("4"), Memory: resource.MustParse("8Gi")}}, 2,
			limits{Pids: 4096, MemoryBytes: 8 << 30, MemoryReservation: 4 << 30, CPUs: "2", CPUShares: 1024},
			"cpu limit 4 lowered to the 2 CPUs podman has"},
		{"millicores and decimal memory", config.Resources{
			Requests: config.ResourceList{CPU: resource.MustParse("250m"), Memory: resource.MustParse("500M")},
			Limits:   config.ResourceList{CPU: resource.MustParse("1500m"), Memory: resource.MustParse("1G")}}, 8,
			limits{Pids: 4096, MemoryBytes: 1e9, MemoryReservation: 5e8, CPUs: "1.5", CPUShares: 256}, ""},
		{"request above limit is capped", config.Resources{
			Requests: config.ResourceList{Memory: resource.MustParse("2Gi"), CPU: resource.MustParse("1m")},
			Limits:   config.ResourceList{Memory: resource.MustParse("1Gi")}}, 4,
			limits{Pids: 4096, MemoryBytes: 1 << 30, MemoryReservation: 1 << 30, CPUShares: 2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note := limitsFor(tt.res, tt.cpus)
			if got != tt.want || note != tt.wantNote {
				t.Errorf("got %+v %q, want %+v %q", got, note, tt.want, tt.wantNote)
			}
		})
	}
}
