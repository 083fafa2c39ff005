#!/usr/bin/env python3
"""Sends raw VRRP datagrams with a chosen (spoofed) IPv4 source, TTL 255, building the IP header itself (IP_HDRINCL):
an independent sender for replaying a captured advert as if from its original sender.
Usage: send-raw-spoofed.py IFADDR SRC DST HEX [HEX ...] (IFADDR picks the interface for multicast)"""
import socket
import struct
import sys

ifaddr, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
for h in sys.argv[4:]:
    payload = bytes.fromhex(h)
    # version 4, IHL 5, TOS 0xc0, total length, id 0 (kernel fills), no fragments, TTL 255, protocol 112,
    # checksum 0 (kernel fills), source, destination
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(payload), 0, 0, 255, 112, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    s.sendto(header + payload, (dst, 0))
print(f"sent {len(sys.argv) - 4}")
