# A driver in another language against the virtual module: Python 3, standard library only. Start the module with
# `ussl-bridge emulate --tcp 7000`, then run `python3 examples/python_driver.py 7000`. It waits for the boot
# banner, turns echo off and prints each command's reply on one line.
import re
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 7000
sock = socket.create_connection(('127.0.0.1', port), timeout=10)
received = b''


def readline():
    """The module's next non-empty line; lines end with CR LF."""
    global received
    while True:
        while b'\r\n' not in received:
            data = sock.recv(4096)
            if not data:
                sys.exit('the module closed the connection')
            received += data
        line, received = received.split(b'\r\n', 1)
        if line == b'BUSY':
            sys.exit('the virtual module is serving another client')
        if line.strip():
            return line.decode('latin-1')


def command(text):
    """Sends one command line; returns its reply lines, the final result code last."""
    sock.sendall(text.encode('ascii') + b'\r')
    reply = []
    while True:
        line = readline()
        if line == text + '\r':
            continue  # the echo while echo is on: the command and its CR, then the reply's CR LF
        reply.append(line)
        if line in ('OK', 'ERROR') or line.startswith('+CME ERROR:'):
            return reply


# The module powers on when its first client connects and sends RDY, then URCs, as a real one does at power-on; a
# client that comes later sees no banner. Take what comes until the line has been quiet for half a second.
sock.settimeout(0.5)
banner = []
try:
    while True:
        banner.append(readline())
except socket.timeout:
    sock.settimeout(10)
print('boot:', ', '.join(banner) or 'nothing (the module was on already)')

command('ATE0')
print(' | '.join(command('ATI')))  # Quectel | EC25 | Revision: EC25EFAR06A17M4G | OK
caps = command('AT+QSSLCFG=?')  # a line per parameter: +QSSLCFG: "sslversion",(0-5),(0-4)
print(' '.join(re.match(r'\+QSSLCFG: "(\w+)"', line).group(1) for line in caps[:-1]), '|', caps[-1])
print(' | '.join(command('AT+QSSLCFG="sslversion",1')))  # +QSSLCFG: "sslversion",1,4 | OK
sock.close()
