#!/bin/sh
# tell-time.sh: the host's clock, on request: for every line read, one line with the time
# (CLOCK_REALTIME) as seconds and nanoseconds since the epoch. The controller sets the replies
# against its own clock to learn how far the host's is off (src/host-clock.ts).
#
# Arguments: none
# Stdin:   any line asks for the time; end of input ends the script
# Stdout:  `SECONDS NANOSECONDS` per line read
# Exit:
#   0  its input ended
while read -r _; do
  date '+%s %N'
done
