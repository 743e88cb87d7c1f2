# The WebREPL password, 4 to 9 characters. This file in git holds only the placeholder:
# put the real password in the copy on the ESP (or run webrepl_setup there), never in git.
# boot.py leaves WebREPL off while PASS is the placeholder or outside 4..9 characters.
PASS = "changeme"
