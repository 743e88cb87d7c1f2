# keyin.py - the menus' input: "number, then one letter", acted on at the letter with no Enter
# (mydu's H> and i2ct's bring-up menu I>). Digits are echoed as they come.
import sys


def key():
    ch = sys.stdin.read(1)
    return ch if ch else "x"  # end of input leaves the menu


def ask(prompt):
    # -> (number, letter); no number means 0
    print(prompt, end="")
    num = ""
    ch = key()
    while "0" <= ch <= "9" or ch in " \r\n":
        if "0" <= ch <= "9":
            num += ch
            print(ch, end="")
        ch = key()
    print(ch)
    return (int(num) if num else 0), ch
