# getpool.py - ask the Duino-Coin pool picker which pool to mine on, when setup.txt names none.
# Plain HTTP/1.0 (the ESP8266 cannot afford TLS); loaded only for that, then unloaded by mydu.
import socket
import json

PICKER = ("server.duinocoin.com", 80)


def get_pool(picker=PICKER, timeout=10):
    # -> (host, port); ValueError with the picker's message when it names no pool
    s = socket.socket()
    try:
        s.settimeout(timeout)
        s.connect(socket.getaddrinfo(picker[0], picker[1])[0][-1])
        s.send(b"GET /getPool HTTP/1.0\r\nHost: %s\r\n\r\n" % picker[0].encode())
        reply = b""
        while len(reply) < 1024:  # the answer is about 200 bytes; never buffer more
            chunk = s.recv(256)
            if not chunk:
                break
            reply += chunk
    finally:
        s.close()
    try:
        answer = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    except (IndexError, ValueError):
        raise ValueError("getPool: no JSON in the answer")
    if not answer.get("success"):
        raise ValueError("getPool: %s" % answer.get("message", "no pool"))
    return answer["ip"], int(answer["port"])
