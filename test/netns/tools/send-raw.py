#!/usr/bin/env python3
"""Sends raw IP protocol 112 datagrams, for lab tests of what tandem drops: an independent sender (not tandem's own
socket code) that can also set a wrong TTL. Usage: send-raw.py IFADDR DST TTL HEX [HEX ...]"""
import socket
import sys

ifaddr, dst, ttl = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
for h in sys.argv[4:]:
    s.sendto(bytes.fromhex(h), (dst, 0))
print(f"sent {len(sys.argv) - 4}")
