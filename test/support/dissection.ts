/**
 * Reads the decoded text that accompanies the golden captures (tcpdump -X summaries and tshark -V trees with their hex
 * dumps), so tests can check a decoder against what tcpdump and Wireshark say about the very same bytes.
 */

/** What one section of a decoded-text file says about one frame. */
export interface Dissection {
  /** The text file and its section label (`### prio0: …`), for assertion messages. */
  where: string;
  /** The capture the section names (`frame 2 of vrrpv2-failover.pcap`), else the text file's own base name. */
  pcap: string;
  /** The frame number the section names, if it names one; otherwise find the frame by its bytes. */
  frame?: number;
  /** The tcpdump one-line summary (the line after the timestamp), if present. */
  tcpdump?: string;
  /** Frame bytes from tcpdump's `-X` hex dump, if present. */
  tcpdumpBytes?: Uint8Array;
  /** tshark `Name: value` fields in order of appearance; bit-field prefixes (`.... 0001 = `) are removed. */
  fields: [string, string][];
  /** Frame bytes from tshark's hex dump, if present. */
  tsharkBytes?: Uint8Array;
}

const TCPDUMP_HEX = /^\t0x[0-9a-f]{4}: {2}(.{1,39})/;
const TSHARK_HEX = /^[0-9a-f]{4} {2}((?:[0-9a-f]{2} ){1,16})/;
const FIELD = /^\s+(?:[.01 ]+ = )?([A-Za-z][^:[\]]*?): (.+)$/;

const hexBytes = (groups: string[]): number[] =>
  groups.flatMap((g) => g.match(/[0-9a-f]{2}/g) ?? []).map((h) => Number.parseInt(h, 16));

/** Splits a decoded-text file into per-frame dissections. `file` is its name (`vrrpv3-advert.tshark.txt`). */
export function parseDissections(file: string, text: string): Dissection[] {
  const base = file.replace(/\.(?:tshark|tcpdump|decoded)\.txt$/, '.pcap');
  const sections: { label: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('### ') || sections.length === 0)
      sections.push({ label: line.startsWith('### ') ? line : '', lines: [] });
    sections[sections.length - 1]?.lines.push(line);
  }
  const out: Dissection[] = [];
  for (const { label, lines } of sections) {
    const named = /frame (\d+) of (\S+\.pcap)/.exec(label);
    const d: Dissection = { where: `${file} ${label}`.trim(), pcap: named?.[2] ?? base, fields: [] };
    if (named?.[1]) d.frame = Number(named[1]);
    const tcpdumpHex: number[] = [];
    const tsharkHex: number[] = [];
    let inTshark = false;
    for (const line of lines) {
      if (/^Frame \d+: /.test(line)) inTshark = true;
      const th = TCPDUMP_HEX.exec(line);
      const sh = TSHARK_HEX.exec(line);
      if (th?.[1]) tcpdumpHex.push(...hexBytes(th[1].trim().split(/\s+/)));
      else if (sh?.[1] && inTshark) tsharkHex.push(...hexBytes(sh[1].trim().split(/\s+/)));
      else if (!inTshark && /^\s+\S+ > \S+: /.test(line)) d.tcpdump = line.trim();
      else if (inTshark) {
        const f = FIELD.exec(line);
        if (f?.[1] && f[2] !== undefined) d.fields.push([f[1], f[2]]);
      }
    }
    if (tcpdumpHex.length) d.tcpdumpBytes = Uint8Array.from(tcpdumpHex);
    if (tsharkHex.length) d.tsharkBytes = Uint8Array.from(tsharkHex);
    if (d.tcpdump || d.tsharkBytes || d.tcpdumpBytes) out.push(d);
  }
  return out;
}

/** All values of a tshark field, in order (`IP Address` repeats once per address). */
export function fieldValues(d: Dissection, name: string): string[] {
  return d.fields.filter(([n]) => n === name).map(([, v]) => v);
}

/** The single value of a tshark field; throws if it is missing or repeated, so a test cannot check nothing. */
export function field(d: Dissection, name: string): string {
  const vs = fieldValues(d, name);
  if (vs.length !== 1) throw new Error(`${d.where}: expected one '${name}' field, found ${vs.length}`);
  return vs[0] as string;
}
