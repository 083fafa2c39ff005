/**
 * Just enough packet-capture reading for golden-vector tests: classic libpcap and pcapng files (tshark and editcap
 * write pcapng even when asked for a capture excerpt), Ethernet frames, IPv4 headers and ARP. Throws on anything it
 * does not understand, because a test that silently reads nothing proves nothing.
 */

/** One captured frame. */
export interface CapturedFrame {
  /** 1-based position in the file, as tshark and Wireshark number frames. */
  number: number;
  /** Link-layer type of the interface it was captured on (1 = Ethernet). */
  linkType: number;
  /** The captured bytes (may be shorter than the frame on the wire if the snap length cut it). */
  data: Uint8Array;
  /** Length of the frame on the wire. */
  origLen: number;
}

/** Ethernet link-layer type in both pcap formats. */
export const LINKTYPE_ETHERNET = 1;

/** Reads every frame of a classic libpcap or pcapng file. */
export function readCapture(file: Uint8Array): CapturedFrame[] {
  if (file.length < 4) throw new Error(`capture too short (${file.length} bytes)`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicBE = view.getUint32(0, false);
  if (magicBE === 0x0a0d0d0a) return readPcapng(file, view);
  return readClassic(file, view);
}

function readClassic(file: Uint8Array, view: DataView): CapturedFrame[] {
  const magics: Record<number, { le: boolean }> = {
    2712847316: { le: false }, // microsecond timestamps
    2712812621: { le: false }, // nanosecond timestamps
    3569595041: { le: true },
    1295823521: { le: true },
  };
  const m = magics[view.getUint32(0, false)];
  if (!m) throw new Error(`not a pcap or pcapng file (magic 0x${view.getUint32(0, false).toString(16)})`);
  if (file.length < 24) throw new Error('pcap global header truncated');
  const le = m.le;
  const linkType = view.getUint32(20, le) & 0x0fffffff; // the top bits can carry FCS flags
  const frames: CapturedFrame[] = [];
  let at = 24;
  while (at < file.length) {
    if (at + 16 > file.length) throw new Error(`pcap record header truncated at byte ${at}`);
    const inclLen = view.getUint32(at + 8, le);
    const origLen = view.getUint32(at + 12, le);
    if (at + 16 + inclLen > file.length) throw new Error(`pcap record at byte ${at} overruns the file`);
    frames.push({ number: frames.length + 1, linkType, data: file.slice(at + 16, at + 16 + inclLen), origLen });
    at += 16 + inclLen;
  }
  return frames;
}

function readPcapng(file: Uint8Array, view: DataView): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  let le = true;
  let ifLinkTypes: number[] = [];
  let at = 0;
  while (at < file.length) {
    if (at + 12 > file.length) throw new Error(`pcapng block header truncated at byte ${at}`);
    const type = view.getUint32(at, le);
    if (type === 0x0a0d0d0a) {
      // Section Header Block: its byte-order magic decides the endianness of the whole section.
      const bom = view.getUint32(at + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new Error(`pcapng section at byte ${at} has a bad byte-order magic`);
      ifLinkTypes = [];
    }
    const len = view.getUint32(at + 4, le);
    if (len < 12 || len % 4 !== 0 || at + len > file.length) throw new Error(`pcapng block at byte ${at} is malformed`);
    if (view.getUint32(at + len - 4, le) !== len)
      throw new Error(`pcapng block at byte ${at}: trailing length differs`);
    if (type === 0x00000001) {
      ifLinkTypes.push(view.getUint16(at + 8, le)); // Interface Description Block
    } else if (type === 0x00000006) {
      // Enhanced Packet Block
      const ifId = view.getUint32(at + 8, le);
      const capLen = view.getUint32(at + 20, le);
      const origLen = view.getUint32(at + 24, le);
      const linkType = ifLinkTypes[ifId];
      if (linkType === undefined) throw new Error(`pcapng packet at byte ${at} names unknown interface ${ifId}`);
      if (28 + capLen > len - 4) throw new Error(`pcapng packet at byte ${at} overruns its block`);
      frames.push({ number: frames.length + 1, linkType, data: file.slice(at + 28, at + 28 + capLen), origLen });
    } else if (type === 0x00000003) {
      // Simple Packet Block: always interface 0, captured length = block body unless snapped.
      const origLen = view.getUint32(at + 8, le);
      const linkType = ifLinkTypes[0];
      if (linkType === undefined) throw new Error(`pcapng simple packet at byte ${at} before any interface`);
      const capLen = Math.min(origLen, len - 16);
      frames.push({ number: frames.length + 1, linkType, data: file.slice(at + 12, at + 12 + capLen), origLen });
    }
    // Other blocks (statistics, name resolution, custom) carry no frames.
    at += len;
  }
  return frames;
}

/** An Ethernet II frame split into its header fields and payload. */
export interface EthernetFrame {
  dst: string;
  src: string;
  /** EtherType after any 802.1Q tags (0x0800 IPv4, 0x0806 ARP, 0x86dd IPv6). */
  etherType: number;
  payload: Uint8Array;
}

const mac = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** Parses an Ethernet II frame (skipping 802.1Q/802.1ad tags). */
export function parseEthernet(frame: Uint8Array): EthernetFrame {
  if (frame.length < 14) throw new Error(`Ethernet frame too short (${frame.length} bytes)`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let at = 12;
  let etherType = view.getUint16(at);
  while ((etherType === 0x8100 || etherType === 0x88a8) && at + 6 <= frame.length) {
    at += 4;
    etherType = view.getUint16(at);
  }
  return {
    dst: mac(frame.subarray(0, 6)),
    src: mac(frame.subarray(6, 12)),
    etherType,
    payload: frame.subarray(at + 2),
  };
}

/** The IPv4 header fields a VRRP receiver gets from the kernel, and the payload it hands over. */
export interface Ipv4Packet {
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
  /** The payload, cut to the IP total length (drops Ethernet padding). */
  payload: Uint8Array;
}

/** Parses an IPv4 header; throws on a non-IPv4 or truncated packet. */
export function parseIpv4Packet(bytes: Uint8Array): Ipv4Packet {
  if (bytes.length < 20) throw new Error(`IPv4 packet too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = view.getUint8(0);
  if (b0 >> 4 !== 4) throw new Error(`IP version ${b0 >> 4}, expected 4`);
  const ihl = (b0 & 0x0f) * 4;
  const total = view.getUint16(2);
  if (ihl < 20 || total < ihl || total > bytes.length) throw new Error(`bad IPv4 lengths (ihl ${ihl}, total ${total})`);
  const ip = (at: number): string => [...bytes.subarray(at, at + 4)].join('.');
  return {
    ttl: view.getUint8(8),
    protocol: view.getUint8(9),
    src: ip(12),
    dst: ip(16),
    payload: bytes.subarray(ihl, total),
  };
}

/** An ARP packet for IPv4 over Ethernet. */
export interface ArpPacket {
  /** 1 = request, 2 = reply. */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** Decodes an Ethernet/IPv4 ARP packet; throws on other hardware or protocol types. */
export function parseArp(bytes: Uint8Array): ArpPacket {
  if (bytes.length < 28) throw new Error(`ARP packet too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 1 || view.getUint16(2) !== 0x0800 || view.getUint8(4) !== 6 || view.getUint8(5) !== 4) {
    throw new Error('ARP packet is not Ethernet/IPv4');
  }
  const ip = (at: number): string => [...bytes.subarray(at, at + 4)].join('.');
  return {
    op: view.getUint16(6),
    senderMac: mac(bytes.subarray(8, 14)),
    senderIp: ip(14),
    targetMac: mac(bytes.subarray(18, 24)),
    targetIp: ip(24),
  };
}
