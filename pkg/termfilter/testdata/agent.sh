#!/bin/bash
# The hostile agent of TestRealTerminal, run in a pane of its own tmux
# server ("agent"). Once the user's terminal is attached ($1/go exists), it
# turns on passthrough in that server, as an agent owning its tmux can, and
# sends through it a clipboard write (OSC 52) and a title (OSC 2) meant for
# the user's real terminal. Then it prints a marker and records the line
# the user types.
set -eu
ctl=$1
while [ ! -e "$ctl/go" ]; do sleep 0.05; done
tmux set -p allow-passthrough on
clip=$(printf '%s' "$PAUDE_TEST_CLIPBOARD" | base64 -w0)
esc=$'\e' bel=$'\a'
# Inside `ESC P tmux; … ESC \` every ESC of the wrapped sequence is doubled.
printf '%s' "${esc}Ptmux;${esc}${esc}]52;c;${clip}${bel}${esc}\\"
printf '%s' "${esc}Ptmux;${esc}${esc}]2;${PAUDE_TEST_TITLE}${bel}${esc}\\"
printf 'agent-done\n'
# What the user types reaches the agent: the filter is on the output only.
read -r line
printf '%s\n' "$line" >"$ctl/typed"
exec sleep 600
