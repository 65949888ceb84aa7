// Package image turns a project's configuration into image builds: the
// agent image's Containerfile and build context (WorkspaceRecipe), the squid
// proxy image (ProxyRecipe) and the proxy's squid.conf (SquidConf). It runs no
// builder; backends build the recipes (Podman locally, then a push for
// OpenShift). Tags are content hashes, "paude-workspace:<12 hex>", so a
// backend builds only when the tag is missing (or on --rebuild).
//
// # The agent image
//
// FROM the project's base (or FROM the user build's tag), the Debian
// packages tmux, git, ca-certificates, curl, procps, less and the project's
// own (apt-get, no recommends; a base without apt-get fails the build with
// a clear message), the agent from Agent.Install in its own layer, the
// pip_install requirements, user paude (UID 1000, group 0, HOME
// /home/paude writable by group 0), safe.directory=* in /etc/gitconfig,
// /etc/tmux.conf, and /usr/local/bin/paude-entrypoint as ENTRYPOINT, with
// USER 1000 and WORKDIR /workspace. Labels: app=paude and
// paude.io/config-hash (SHA-256 of the image settings).
//
// # The entrypoint contract
//
// The image's environment carries PAUDE_AGENT_CMD, PAUDE_AGENT_ARGS and
// PAUDE_AGENT_YOLO_ARGS (base64 of the arguments, each followed by a NUL).
// Backends run the container with, as they need:
//
//	PAUDE_WORKSPACE     directory the agent runs in (default: WORKDIR)
//	PAUDE_YOLO=1        add the yolo arguments (--yolo)
//	PAUDE_SETUP         shell command run once per workspace before the agent
//	PAUDE_STATE_DIR     where setup markers and logs go (default
//	                    $HOME/.paude-state; never inside the workspace)
//	PAUDE_RUN_DIR       runtime files (default /tmp/paude)
//	PAUDE_IDLE_TIMEOUT  seconds without tmux activity before the session
//	                    stops; 0 or unset: never
//	PAUDE_MAX_LIFETIME  seconds before the session stops; 0 or unset: never
//
// and the modes:
//
//	paude-entrypoint [--] [AGENT ARGS...]  main process: tmux session
//	    "claude" running the agent, waits while it exists. Exits with the
//	    agent's code (128+N if signal N killed it) after printing its last
//	    screen; 124 after the idle timeout or max lifetime (stderr says
//	    which); 128+N when the container got signal N; 1 for a bad
//	    environment.
//	paude-entrypoint attach  (needs a TTY) attach to the session, creating
//	    it as main did when it is gone. Exits with the agent's code when the
//	    agent ended while attached (its last screen printed first), 0 when
//	    the user detached (C-b d), tmux's code when tmux failed.
//	paude-entrypoint status  prints "running", "exited <code>" or "none".
//
// The full contract, with the files kept in PAUDE_RUN_DIR, heads
// containers/paude/entrypoint.sh.
package image
