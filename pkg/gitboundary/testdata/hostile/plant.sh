#!/bin/sh
# Planted by the attack corpus: records who ran it. The session's
# executor sets PAUDE_SIDE=session; any other caller is the host.
echo "${PAUDE_SIDE:-host} $(basename "$0") $*" >>"@MARKER@"
