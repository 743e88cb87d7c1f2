# main.py - runs after boot.py on every start of the ESP. It shows the rig's menu (H>); with
# `autostart yes` in setup.txt the rig also starts mining by itself (s, then l until a key),
# so a reset or a power cut costs only the reconnects. Ctrl-C leaves for the REPL.
import mydu  # noqa: F401  (the import runs the menu)
