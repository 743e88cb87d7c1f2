# keyin.py - the menus' input: "number, then one letter", acted on at the letter with no Enter
# (mydu's H> and i2ct's bring-up menu I>). Digits are echoed as they come.
import sys


def ask(prompt):
    # -> (number, letter); no number means 0
    print(prompt, end="")
    num = ""
    while True:
        ch = sys.stdin.read(1) or "x"  # the end of input leaves the menu
        if "0" <= ch <= "9":
            num += ch
            print(ch, end="")
        elif ch not in " \r\n":
            break
    print(ch)
    return (int(num) if num else 0), ch
