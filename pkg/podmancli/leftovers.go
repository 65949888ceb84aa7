package podmancli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// listBuildContainersArgs lists every container podman knows, buildah's
// working containers ("external" ones) included, as JSON.
func listBuildContainersArgs() []string {
	return []string{"ps", "--all", "--external", "--format", "json"}
}

// externalContainer is the part of `podman ps --format json` that tells a
// build's working container from other containers.
type externalContainer struct {
	ID      string   `json:"Id"`
	Names   []string `json:"Names"`
	State   string   `json:"State"`
	Command []string `json:"Command"`
	Created int64    `json:"Created"`
}

// removeBuildLeftovers removes the working containers of a build that
// did not finish. podman build --force-rm removes them when a step fails,
// but podman 4 leaves them behind when it is itself interrupted (SIGINT
// or SIGTERM, as when the user presses C-c on paude), and each holds a
// copy of the image's upper layer. They are the containers in state
// "storage" created by buildah at or after the build's start; a buildah
// build the user started in that same window would lose its working
// container too, which is why this runs only for a build that did not
// succeed. It uses its own context: the build's may be what ended.
func (b *Builder) removeLeftovers(started time.Time, progress io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := b.Runner.Run(ctx, listBuildContainersArgs())
	if err != nil {
		fmt.Fprintf(progress, "Warning: could not look for the interrupted build's working containers: %v\n", err)
		return
	}
	var all []externalContainer
	if err := json.Unmarshal(out, &all); err != nil {
		fmt.Fprintf(progress, "Warning: could not read podman's container list: %v\n", err)
		return
	}
	for _, c := range all {
		if c.State != "storage" || len(c.Command) == 0 || c.Command[0] != "buildah" || c.Created < started.Unix()-1 {
			continue
		}
		if _, err := b.Runner.Run(ctx, []string{"rm", "--force", c.ID}); err != nil {
			fmt.Fprintf(progress, "Warning: could not remove the build's working container %s: %v\n", c.Names, err)
		}
	}
}
