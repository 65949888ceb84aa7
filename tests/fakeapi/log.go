package fakeapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// LogPrefix starts each line a Server writes to its Log, so ReadLog can
// pick them out of a container's output among other lines.
const LogPrefix = "fakeapi: request "

// ReadLog returns the requests a Server logged, in order, from output that
// may hold other lines too (a container's or pod's log).
func ReadLog(r io.Reader) ([]Request, error) {
	var reqs []Request
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		_, rest, ok := strings.Cut(sc.Text(), LogPrefix)
		if !ok {
			continue
		}
		var req Request
		if err := json.Unmarshal([]byte(rest), &req); err != nil {
			return nil, fmt.Errorf("line %d of the fake's log is not a request record: %w", n, err)
		}
		reqs = append(reqs, req)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("failed to read the fake's log: %w", err)
	}
	return reqs, nil
}
