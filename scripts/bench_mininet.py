#!/usr/bin/python3
"""Mininet side of scripts/bench-pods.sh: build and stop N hosts (each a bash in its
own network namespace, linked to Linux bridges, no controller), as NOTES.md measured it.
Prints `mininet N build_ms stop_ms`. Never run `mn -c`: it kills processes machine-wide.
Usage: /usr/bin/python3 scripts/bench_mininet.py N"""

import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge

# A Linux bridge takes at most 1,024 ports (BR_MAX_PORTS in net/bridge/br_private.h).
HOSTS_PER_BRIDGE = 1000


def main(n):
    setLogLevel("error")
    net = Mininet(switch=LinuxBridge, controller=None, build=False, autoSetMacs=False)
    bridges = [net.addSwitch(f"s{i + 1}") for i in range((n + HOSTS_PER_BRIDGE - 1) // HOSTS_PER_BRIDGE)]
    for a, b in zip(bridges, bridges[1:]):
        net.addLink(a, b)
    for i in range(n):
        host = net.addHost(f"h{i + 1}", ip=f"10.{(i + 1) >> 16 & 255}.{(i + 1) >> 8 & 255}.{(i + 1) & 255}/8")
        net.addLink(host, bridges[i // HOSTS_PER_BRIDGE])
    t0 = time.monotonic()
    net.build()
    net.start()
    t1 = time.monotonic()
    net.stop()
    t2 = time.monotonic()
    print(f"mininet {n} {round((t1 - t0) * 1000)} {round((t2 - t1) * 1000)}")


if __name__ == "__main__":
    main(int(sys.argv[1]))
