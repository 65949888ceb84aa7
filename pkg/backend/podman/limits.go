package podman

import (
	"fmt"
	"strconv"

	"github.com/paude-dev/paude/pkg/config"
)

// limits are the container's resource limits; zero values are left out.
type limits struct {
	MemoryBytes       int64
	MemoryReservation int64
	CPUs              string
	CPUShares         int64
	Pids              int
}

func (l limits) args() []string {
	var args []string
	if l.Pids > 0 {
		args = append(args, "--pids-limit", strconv.Itoa(l.Pids))
	}
	if l.MemoryBytes > 0 {
		args = append(args, "--memory", strconv.FormatInt(l.MemoryBytes, 10))
	}
	if l.MemoryReservation > 0 {
		args = append(args, "--memory-reservation", strconv.FormatInt(l.MemoryReservation, 10))
	}
	if l.CPUs != "" {
		args = append(args, "--cpus", l.CPUs)
	}
	if l.CPUShares > 0 {
		args = append(args, "--cpu-shares", strconv.FormatInt(l.CPUShares, 10))
	}
	return args
}

// limitsFor turns backend.resources into podman limits. CPU limits above
// the podman machine's CPU count are lowered to it (podman refuses them);
// the returned note says so.
func limitsFor(r config.Resources, hostCPUs int) (limits, string) {
	l := limits{Pids: defaultPidsLimit}
	var note string
	l.MemoryBytes = r.Limits.Memory.Value()
	l.MemoryReservation = min(r.Requests.Memory.Value(), l.MemoryBytes)
	milli := r.Limits.CPU.MilliValue()
	if hostCPUs > 0 && milli > int64(hostCPUs)*1000 {
		note = fmt.Sprintf("cpu limit %s lowered to the %d CPUs podman has", r.Limits.CPU.String(), hostCPUs)
		milli = int64(hostCPUs) * 1000
	}
	if milli > 0 {
		l.CPUs = strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
	}
	// The kubelet's mapping: 1 CPU = 1024 shares, at least 2.
	if req := r.Requests.CPU.MilliValue(); req > 0 {
		l.CPUShares = max(req*1024/1000, 2)
	}
	return l, note
}
