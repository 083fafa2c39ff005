/**
 * What the keepalived.conf reader does with each keepalived keyword, by block. Three tables, one per outcome:
 * SUPPORTED keywords fill a field of the native config, WARNED keywords are valid keepalived but ignored with a
 * warning, REJECTED keywords (or values) are refused with an error because ignoring them would make tandem behave
 * differently from its keepalived peers on the wire. The reader takes its knowledge of "is this a keepalived keyword
 * at all" from these tables too, so the generated page docs/keepalived.md cannot drift from what the code does.
 * @see keepalived.conf(5)
 */

/** A block of keepalived.conf (or a pseudo-block: the preprocessor, the options of one list entry). */
export type KaBlock =
  | 'preprocessor'
  | 'top level'
  | 'global_defs'
  | 'vrrp_script'
  | 'track_file'
  | 'vrrp_instance'
  | 'authentication'
  | 'virtual_ipaddress entry'
  | 'unicast_peer entry'
  | 'track_* entry'
  | 'vrrp_sync_group'
  | 'virtual_server_group entry'
  | 'virtual_server'
  | 'real_server'
  | 'TCP_CHECK'
  | 'HTTP_GET, SSL_GET'
  | 'url'
  | 'MISC_CHECK'
  | 'UDP_CHECK'
  | 'PING_CHECK'
  | 'SMTP_CHECK'
  | 'host'
  | 'DNS_CHECK'
  | 'FILE_CHECK';

/** keyword → what tandem does with it (the native field, or the reason it is ignored or refused). */
export type KeywordTable = Readonly<Record<KaBlock, Readonly<Record<string, string>>>>;

/** The blocks in the order the documentation lists them. */
export const KA_BLOCKS: readonly KaBlock[] = [
  'preprocessor',
  'top level',
  'global_defs',
  'vrrp_script',
  'track_file',
  'vrrp_instance',
  'authentication',
  'virtual_ipaddress entry',
  'unicast_peer entry',
  'track_* entry',
  'vrrp_sync_group',
  'virtual_server_group entry',
  'virtual_server',
  'real_server',
  'TCP_CHECK',
  'HTTP_GET, SSL_GET',
  'url',
  'MISC_CHECK',
  'UDP_CHECK',
  'PING_CHECK',
  'SMTP_CHECK',
  'host',
  'DNS_CHECK',
  'FILE_CHECK',
];

const each = (keywords: readonly string[], text: string): Record<string, string> =>
  Object.fromEntries(keywords.map((k) => [k, text]));

/** The schedulers tandem implements, by their keepalived / ipvsadm names. */
export const LB_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh'] as const;

/** keepalived schedulers tandem does not implement (refused with TND_CFG_REJECTED). */
export const OTHER_SCHEDULERS = ['lblc', 'lblcr', 'dh', 'sed', 'nq', 'fo', 'ovf', 'twos'] as const;

const NOTIFY_NOTE = 'command line (the first word; a quoted string keeps its arguments)';

/** The timing options every checker takes. */
const TIMING = {
  retry: 'check.retries (DNS_CHECK default 3, as keepalived)',
  delay_before_retry: 'check.delay_before_retry (seconds → ms)',
  warmup: 'check.warmup (seconds → ms)',
  delay_loop: 'check.interval (seconds → ms)',
  alpha: 'check.start_down (<BOOL>, no value = true)',
};

/** keepalived's generic connection options of a checker, with the timing ones. */
const CONNECTION = (timeout: string): Record<string, string> => ({
  connect_ip: 'check.address',
  connect_port: 'check.port',
  bindto: 'check.bind',
  connect_timeout: `${timeout} (seconds → ms)`,
  ...TIMING,
});

/** Keywords that fill a native config field, by block: keyword → native field. */
export const SUPPORTED: KeywordTable = {
  preprocessor: {
    include: 'reads the files matching a glob (csh braces allowed), relative to the including file',
    includer: 'as include; an unreadable match is an error',
    includem: 'as include; no match is an error',
    includew: 'as include; no match is an error',
    includeb: 'as include; no match is an error',
    includea: 'as include; no match or an unreadable match is an error',
    '$NAME=value': 'defines a parameter; a value ending in \\ continues on the next lines',
    '$NAME, ${NAME}': 'substitutes a parameter (recursively)',
    '${_PWD}': 'the directory of the file being read',
    '${_HASH}, ${_BANG}': 'a literal # or !',
    '${_INSTANCE}': 'the config id, when the caller passes one',
    '@ID line, @^ID line': 'conditional lines, when the caller passes a config id',
  },
  'top level': {
    global_defs: 'see global_defs',
    vrrp_script: 'vrrp.scripts[NAME]',
    track_file: 'vrrp.track_files[NAME]',
    vrrp_track_file: 'vrrp.track_files[NAME] (old name of track_file)',
    vrrp_instance: 'vrrp.instances[]',
    vrrp_sync_group: 'vrrp.sync_groups[]',
    virtual_server: 'lb.services[] (see virtual_server)',
    virtual_server_group: 'the addresses of virtual_server group NAME (see virtual_server_group entry)',
    static_ipaddress: 'vrrp.static.addresses (ADDR[/LEN] dev IF [label L]; in place while tandem runs)',
    static_routes: 'vrrp.static.routes (ip route arguments; gw is via)',
    static_rules: 'vrrp.static.rules (ip rule arguments)',
  },
  global_defs: {
    router_id: 'cluster.nodes[0].name (default: local), and alerts.router_id when e-mail alerts are set',
    // alerts (issue 12 item 5)
    notification_email: 'alerts.email.to (one address per line)',
    notification_email_from: 'alerts.email.from',
    smtp_server: 'alerts.email.smtp.server and port (IP or host name [PORT], default 25)',
    smtp_helo_name: 'alerts.email.smtp.helo_name',
    smtp_connect_timeout: 'alerts.email.smtp.connect_timeout (seconds → ms)',
    smtp_alert: 'alerts.smtp_alert (<BOOL>, no value = true): the default of every object',
    smtp_alert_vrrp: 'alerts.smtp_alert_vrrp: the default of instances and sync groups',
    smtp_alert_checker: 'alerts.smtp_alert_checker: the default of virtual and real servers',
    no_email_faults: 'alerts.no_email_faults: no alert on entering FAULT',
    vrrp_version: 'default of vrrp.instances[].version',
    vrrp_garp_master_delay: 'default of vrrp.instances[].garp.master_delay',
    vrrp_garp_master_repeat: 'default of vrrp.instances[].garp.master_repeat',
    vrrp_garp_lower_prio_repeat: 'default of vrrp.instances[].garp.lower_prio_repeat',
    vrrp_garp_master_refresh: 'default of vrrp.instances[].garp.master_refresh',
    vrrp_lower_prio_no_advert: 'default of vrrp.instances[].lower_prio_no_advert',
    vrrp_down_timer_adverts: 'default of vrrp.instances[].down_timer_adverts',
    v3_checksum_as_v2: "default of vrrp.instances[].v3_checksum ('message')",
    vrrp_strict:
      'strict mode, as keepalived applies it: unicast peers refused, authentication dropped, accept and ' +
      'lower_prio_no_advert defaults changed, state MASTER only for the owner (each with a warning)',
    vrrp_skip_check_adv_addr: 'default of vrrp.instances[].skip_check_adv_addr',
    vrrp_garp_interval: 'default of vrrp.instances[].garp.interval (seconds → ms)',
    vrrp_gna_interval: 'default of vrrp.instances[].garp.na_interval (seconds → ms)',
    vrrp_mcast_group4: 'accepted when it is the standard group 224.0.0.18',
    vrrp_mcast_group6: 'accepted when it is the standard group ff02::12',
  },
  vrrp_script: {
    script: 'command',
    interval: 'interval (seconds → ms)',
    timeout: 'timeout (seconds → ms)',
    weight: 'weight, and reverse',
    rise: 'rise',
    fall: 'fall',
    user: 'user (the group is ignored with a warning)',
    init_fail: 'init_fail',
  },
  track_file: {
    file: 'path',
    weight: 'weight, and reverse',
    init_file: 'init_file (the value; overwrite is ignored with a warning)',
  },
  vrrp_instance: {
    state: 'initial_state (MASTER → master, BACKUP → backup)',
    interface: 'interface',
    virtual_router_id: 'vrid',
    priority: 'priority',
    advert_int: 'advert_interval (seconds → ms)',
    version: 'version (default: global vrrp_version, else 2, or 3 for IPv6 addresses, as keepalived)',
    dont_track_primary: 'track_primary: false',
    nopreempt: 'preempt: false',
    preempt: 'preempt: true',
    preempt_delay: 'preempt_delay (seconds → ms)',
    accept: 'accept: true',
    no_accept: 'accept: false',
    authentication: 'auth (see authentication)',
    v3_checksum_as_v2: "v3_checksum: 'message'",
    virtual_ipaddress: 'vips',
    unicast_src_ip: 'unicast.source (mcast_source when there is no unicast_peer, as keepalived)',
    unicast_peer: 'unicast.peers',
    mcast_src_ip: 'mcast_source (unicast.source when there are unicast peers, as keepalived)',
    track_interface: 'track.interfaces',
    track_script: 'track.scripts',
    track_file: 'track.files',
    notify_master: `notify.master: ${NOTIFY_NOTE}`,
    notify_backup: `notify.backup: ${NOTIFY_NOTE}`,
    notify_fault: `notify.fault: ${NOTIFY_NOTE}`,
    notify_stop: `notify.stop: ${NOTIFY_NOTE}`,
    notify: `notify.any: ${NOTIFY_NOTE}`,
    garp_master_delay: 'garp.master_delay (seconds → ms)',
    garp_master_repeat: 'garp.master_repeat',
    garp_lower_prio_repeat: 'garp.lower_prio_repeat',
    garp_master_refresh: 'garp.master_refresh (seconds → ms)',
    down_timer_adverts: 'down_timer_adverts',
    lower_prio_no_advert: 'lower_prio_no_advert (no value = true)',
    use_vmac: 'vmac (a macvlan vrrp.VRID, or the name given, with MAC 00:00:5e:00:01:VRID, holds the vips)',
    vmac_xmit_base: 'vmac.xmit_base: true (adverts on the base interface)',
    virtual_routes: 'virtual_routes (ip route arguments, present while master; gw is via)',
    virtual_rules: 'virtual_rules (ip rule arguments, present while master)',
    skip_check_adv_addr: 'skip_check_adv_addr (no value = true)',
    strict_mode: 'strict mode for this instance (see global_defs vrrp_strict)',
    smtp_alert: 'alerts.instances[NAME] (<BOOL>, no value = true)',
  },
  authentication: {
    auth_type: "auth.type (PASS → 'pass')",
    auth_pass: 'auth.password (the first 8 characters, as keepalived)',
  },
  'virtual_ipaddress entry': {
    'ADDR[/LEN]': 'vips[] (text, or an object when dev or label is given)',
    dev: 'vips[].dev',
    label: 'vips[].label',
  },
  'unicast_peer entry': {
    ADDR: 'unicast.peers[]',
  },
  'track_* entry': {
    NAME: 'track.{interfaces,scripts,files}[].name',
    weight: 'track.*[].weight',
    reverse: 'track.*[].reverse: true',
    noreverse: 'track.*[].reverse: false',
  },
  vrrp_sync_group: {
    group: 'members',
    notify_master: `notify.master: ${NOTIFY_NOTE}`,
    notify_backup: `notify.backup: ${NOTIFY_NOTE}`,
    notify_fault: `notify.fault: ${NOTIFY_NOTE}`,
    notify_stop: `notify.stop: ${NOTIFY_NOTE}`,
    notify: `notify.any: ${NOTIFY_NOTE}`,
    sync_group_tracking_weight: 'tracking_weight: true',
    smtp_alert: 'alerts.sync_groups[NAME] (<BOOL>, no value = true)',
  },
  'virtual_server_group entry': {
    'ADDR [PORT]': 'one lb.services[] per entry, named GROUP-ADDR-PORT (-udp for UDP); no port = 0 (every port)',
    'ADDR-LAST [PORT]': 'a range, both ends included: 198.18.0.1-10 is .1 to .10 (IPv6: the last group, in hex)',
    'ADDR-ADDR [PORT]': 'a range between two addresses, both included',
    'ADDR/LEN [PORT]': 'every address of the prefix',
    'fwmark N': 'one lb.services[] named GROUP-fwmarkN with fwmark: N (see virtual_server fwmark N)',
  },
  virtual_server: {
    'ADDR [PORT]': 'lb.services[] named ADDR-PORT (-udp for UDP): vip, port (no port = 0, every port)',
    'group NAME': 'one lb.services[] per address and port of virtual_server_group NAME',
    'fwmark N':
      "lb.services[] named fwmarkN with fwmark: N: nft matches the packet mark (meta mark) the operator's own " +
      "rules set before dstnat (iptables mangle, or nft at priority mangle); tandem's table never touches them",
    lvs_sched: 'scheduler: rr, wrr, lc, wlc, sh, mh (keepalived and tandem default: wlc)',
    lb_algo: 'scheduler (old name of lvs_sched)',
    lvs_method: 'method: NAT → nat, DR → dr',
    lb_kind: 'method (old name of lvs_method)',
    persistence_timeout: 'persistence.timeout (seconds → ms; no value = 360 s, as keepalived)',
    persistence_granularity:
      'persistence.netmask (an IPv4 netmask becomes a prefix length; IPv6 takes a prefix length); implies persistence',
    protocol: 'protocol: TCP → tcp, UDP → udp (none: udp with a warning, as keepalived defaults to UDP)',
    sorry_server: 'sorry_server (the port defaults to the service port)',
    quorum: 'quorum.min',
    hysteresis: 'quorum.hysteresis',
    quorum_up: `quorum.up: ${NOTIFY_NOTE}`,
    quorum_down: `quorum.down: ${NOTIFY_NOTE}`,
    inhibit_on_failure: 'inhibit_on_failure: true (and the default of its real servers)',
    weight: 'default weight of its real servers',
    delay_loop: "default of its checks' interval (seconds → ms; keepalived default 60 s, written out)",
    connect_timeout: "default of its checks' connect_timeout / timeout (default 5 s, written out)",
    retry: "default of its checks' retries (default 1, MISC_CHECK 0, written out)",
    delay_before_retry: "default of its checks' delay_before_retry (3 s for HTTP_GET/SSL_GET, else 1 s, written out)",
    warmup: "default of its checks' warmup",
    alpha: "default of its checks' start_down: true",
    virtualhost: 'default host of its HTTP_GET / SSL_GET checks',
    real_server: 'real_servers[] (see real_server)',
    smtp_alert: 'alerts.services[NAME] (<BOOL>, no value = true; default false, as keepalived)',
  },
  real_server: {
    'ADDR [PORT]': 'real_servers[].address and port (no port: the service port)',
    weight: 'weight (default 1)',
    lvs_method: "accepted when it is the service's method",
    inhibit_on_failure:
      "the service's inhibit_on_failure when every real server agrees (tandem has one setting per service)",
    virtualhost: 'default host of its HTTP_GET / SSL_GET checks',
    alpha: 'start_down of its checks (<BOOL>, no value = true)',
    connect_timeout: "default of its checks' connect_timeout / timeout",
    retry: "default of its checks' retries",
    delay_before_retry: "default of its checks' delay_before_retry",
    warmup: "default of its checks' warmup",
    delay_loop: "default of its checks' interval",
    TCP_CHECK: 'check: { type: tcp } (see TCP_CHECK)',
    HTTP_GET: 'check: { type: http } (see HTTP_GET, SSL_GET)',
    SSL_GET: "check: { type: https }; the certificate is not verified, as keepalived's SSL_GET without a CA",
    MISC_CHECK: 'check: { type: script } (see MISC_CHECK)',
    UDP_CHECK: 'check: { type: udp } (see UDP_CHECK)',
    PING_CHECK: 'check: { type: ping } (see PING_CHECK)',
    SMTP_CHECK: 'check: { type: smtp } (see SMTP_CHECK)',
    DNS_CHECK: 'check: { type: dns } (see DNS_CHECK)',
    FILE_CHECK: 'check: { type: file } (see FILE_CHECK)',
    smtp_alert: "alerts.real_servers['SERVICE ADDR:PORT'] (<BOOL>, no value = true; default true, as keepalived)",
  },
  TCP_CHECK: {
    connect_ip: 'check.address',
    connect_port: 'check.port',
    bindto: 'check.bind',
    connect_timeout: 'check.connect_timeout (seconds → ms)',
    retry: 'check.retries',
    delay_before_retry: 'check.delay_before_retry (seconds → ms)',
    warmup: 'check.warmup (seconds → ms)',
    delay_loop: 'check.interval (seconds → ms)',
    alpha: 'check.start_down (<BOOL>, no value = true)',
  },
  'HTTP_GET, SSL_GET': {
    connect_ip: 'check.address',
    connect_port: 'check.port',
    bindto: 'check.bind',
    connect_timeout: 'check.timeout (seconds → ms)',
    retry: 'check.retries',
    nb_get_retry: 'check.retries (the keepalived 1.x name; a TND_CFG_DEPRECATED warning, as keepalived logs one)',
    delay_before_retry: 'check.delay_before_retry (seconds → ms)',
    warmup: 'check.warmup (seconds → ms)',
    delay_loop: 'check.interval (seconds → ms)',
    alpha: 'check.start_down (<BOOL>, no value = true)',
    url: 'the first: check.path, status, digest, body_regex, host; each further one: check.urls[] (see url)',
    enable_sni: 'accepted: tandem sends the host as TLS server name whenever it is a name',
    sni_name: 'check.sni',
  },
  url: {
    path: 'check.path',
    digest: 'check.digest',
    status_code: 'check.status (codes and ranges like 200-299; default 200-299)',
    regex: 'check.body_regex (read as a JavaScript regular expression)',
    regex_no_match: 'check.regex_no_match: true',
    virtualhost: 'check.host',
  },
  MISC_CHECK: {
    misc_path: 'check.command',
    misc_timeout: 'check.timeout (seconds → ms; default: the interval, as keepalived)',
    misc_dynamic: 'check.dynamic: true',
    user: 'check.user (the group is ignored with a warning)',
    retry: 'check.retries (default 0 for MISC_CHECK)',
    delay_before_retry: 'check.delay_before_retry (seconds → ms)',
    warmup: 'check.warmup (seconds → ms)',
    delay_loop: 'check.interval (seconds → ms)',
    alpha: 'check.start_down (<BOOL>, no value = true)',
  },
  UDP_CHECK: {
    ...CONNECTION('check.timeout'),
    payload: 'check.payload (hex octets, as keepalived reads them)',
    require_reply: 'check.require_reply: true; a hex value becomes check.reply (x = any nibble)',
    min_reply_length: 'check.min_reply_length',
    max_reply_length: 'check.max_reply_length',
  },
  PING_CHECK: {
    connect_ip: 'check.address',
    bindto: 'check.bind',
    connect_timeout: 'check.timeout (seconds → ms)',
    ...TIMING,
  },
  SMTP_CHECK: {
    ...CONNECTION('check.timeout'),
    helo_name: 'check.helo_name (default smtpchecker.keepalived.org, as keepalived)',
    host: "check.hosts[] (each checked in turn; the check's own target first when it sets one, as keepalived)",
  },
  host: {
    connect_ip: 'check.hosts[].address (default: the real server)',
    connect_port: 'check.hosts[].port (default: the real server)',
    bindto: 'check.hosts[].bind',
    connect_timeout: 'check.hosts[].timeout (seconds → ms)',
  },
  DNS_CHECK: {
    ...CONNECTION('check.timeout'),
    type: 'check.query_type (A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY; any case; default SOA)',
    name: "check.name (default: the root '.')",
  },
  FILE_CHECK: {
    track_file: 'check.path: the file of that track_file',
    weight: "check.weight and reverse (default: the track_file's)",
    ...TIMING,
  },
};

const DAEMON = 'a setting of the keepalived daemon itself; tandem has its own';
const EMAIL =
  'SNMP and D-Bus notification are not implemented: tandem sends e-mail (smtp_alert) and webhook alerts, and serves ' +
  'Prometheus metrics';
const SYNC =
  'IPVS connection sync is not implemented yet: after a failover, clients reconnect; tandem will sync connections ' +
  'with conntrackd once the data-path work adds it';
const IPVS = 'a setting of IPVS; the nft data plane does not use IPVS';
const LOGGED = 'check results are logged when a server changes state';
const CHECKER_OPT = 'this checker option is not implemented';
const FIREWALL = 'tandem does not manage firewall rules for no_accept';
const FIFO = 'notify FIFOs are not implemented; use notify scripts';
const GARP = 'this gratuitous ARP tuning is not implemented';
const SCRIPTS = 'script security settings are not implemented; scripts run as the tandem user unless user is set';

/** Valid keepalived keywords that tandem ignores with a warning, by block: keyword → why. */
export const WARNED: KeywordTable = {
  preprocessor: {
    '@ID line, @^ID line': 'without a config id: @ID lines are skipped and @^ID lines kept, with a warning',
  },
  'top level': {
    SSL: 'client certificates for SSL_GET are not implemented; SSL_GET connects without one',
    linkbeat_interfaces: 'tandem follows link state through netlink',
    bfd_instance: 'BFD is not implemented',
    vrrp_track_process: 'process tracking is not implemented; use a vrrp_script',
    garp_group: 'gratuitous ARP rate groups are not implemented',
    track_group: 'static track groups are not implemented',
    interface_up_down_delays: 'interface debouncing is not implemented',
    ...each(
      [
        'linkbeat_use_polling',
        'net_namespace',
        'net_namespace_ipvs',
        'namespace_with_ipsets',
        'instance',
        'use_pid_dir',
        'child_wait_time',
      ],
      DAEMON,
    ),
  },
  global_defs: {
    ...each(
      [
        'snmp_socket',
        'enable_snmp_vrrp',
        'enable_snmp_keepalived',
        'enable_snmp_checker',
        'enable_snmp_rfc',
        'enable_snmp_rfcv2',
        'enable_snmp_rfcv3',
        'enable_traps',
        'snmp_vs_stats_update_interval',
        'snmp_rs_stats_update_interval',
        'enable_dbus',
        'dbus_service_name',
        'dbus_no_interface_name',
      ],
      EMAIL,
    ),
    ...each(
      [
        'lvs_timeouts',
        'lvs_flush',
        'lvs_flush_on_stop',
        'lvs_netlink_cmd_rcv_bufs',
        'lvs_netlink_cmd_rcv_bufs_force',
        'lvs_netlink_monitor_rcv_bufs',
        'lvs_netlink_monitor_rcv_bufs_force',
        'nftables_ipvs',
        'nftables_ipvs_priority',
        'nftables_ipvs_start_fwmark',
      ],
      IPVS,
    ),
    lvs_sync_daemon: SYNC,
    lvs_notify_fifo: FIFO,
    lvs_notify_fifo_script: FIFO,
    checker_log_all_failures: 'check results are logged when a server changes state',
    rs_init_notifies: 'real-server notify scripts are not implemented yet',
    no_checker_emails: EMAIL,
    ...each(
      [
        'nftables',
        'nftables_priority',
        'nftables_counters',
        'nftables_ifindex',
        'vrrp_iptables',
        'vrrp_ipsets',
        'disable_local_igmp',
      ],
      FIREWALL,
    ),
    ...each(
      [
        'notify_fifo',
        'notify_fifo_script',
        'vrrp_notify_fifo',
        'vrrp_notify_fifo_script',
        'vrrp_notify_priority_changes',
      ],
      FIFO,
    ),
    ...each(
      ['vrrp_garp_lower_prio_delay', 'vrrp_garp_master_refresh_repeat', 'vrrp_min_garp', 'vrrp_garp_extra_if'],
      GARP,
    ),
    ...each(['script_user', 'enable_script_security', 'set_supplementary_groups', 'use_symlink_paths'], SCRIPTS),
    vrrp_check_unicast_src: 'not implemented yet',
    vrrp_higher_prio_send_advert: 'not implemented yet',
    vrrp_startup_delay: 'not implemented yet',
    vrrp_delay_after_boot: 'not implemented yet',
    log_unknown_vrids: 'not implemented yet',
    vmac_prefix: 'vmac interfaces are named vrrp.VRID, or as use_vmac names them',
    vmac_addr_prefix: 'vmac interfaces are named vrrp.VRID, or as use_vmac names them',
    default_interface: 'static addresses are not managed by tandem',
    dynamic_interfaces: 'not needed: tandem follows interfaces through netlink',
    include_check: 'the include variants (includer, includem, …) apply their own checks',
    ...each(
      [
        'tmp_config_directory',
        'config_save_dir',
        'process_names',
        'process_name',
        'vrrp_process_name',
        'checker_process_name',
        'bfd_process_name',
        'startup_script',
        'startup_script_timeout',
        'shutdown_script',
        'shutdown_script_timeout',
        'max_auto_priority',
        'min_auto_priority_delay',
        'vrrp_priority',
        'checker_priority',
        'bfd_priority',
        'vrrp_no_swap',
        'checker_no_swap',
        'bfd_no_swap',
        'vrrp_cpu_affinity',
        'checker_cpu_affinity',
        'bfd_cpu_affinity',
        'vrrp_rt_priority',
        'checker_rt_priority',
        'bfd_rt_priority',
        'vrrp_rlimit_rttime',
        'checker_rlimit_rttime',
        'bfd_rlimit_rttime',
        'fifo_write_vrrp_states_on_reload',
        'vrrp_netlink_cmd_rcv_bufs',
        'vrrp_netlink_cmd_rcv_bufs_force',
        'vrrp_netlink_monitor_rcv_bufs',
        'vrrp_netlink_monitor_rcv_bufs_force',
        'process_monitor_rcv_bufs',
        'process_monitor_rcv_bufs_force',
        'vrrp_rx_bufs_policy',
        'vrrp_rx_bufs_multiplier',
        'umask',
        'random_seed',
        'reload_check_config',
        'reload_time_file',
        'reload_repeat',
        'reload_file',
        'data_use_instance',
        'state_file_location',
        'stats_file_location',
        'json_file_location',
        'json_version',
        'iproute_usr_dir',
        'iproute_etc_dir',
        'net_namespace',
        'net_namespace_ipvs',
        'namespace_with_ipsets',
        'instance',
        'use_pid_dir',
        'linkbeat_use_polling',
        'child_wait_time',
      ],
      DAEMON,
    ),
  },
  vrrp_script: {},
  track_file: {},
  vrrp_instance: {
    vrf: 'VRF binding is not implemented',
    use_vmac_addr: 'a virtual MAC kept on the base interface too is not implemented yet',
    use_ipvlan: 'ipvlan interfaces are not implemented',
    native_ipv6: 'deprecated in keepalived; the virtual addresses decide the address family',
    track_process: 'process tracking is not implemented; use a vrrp_script',
    track_bfd: 'BFD is not implemented',
    track_src_ip: 'not implemented yet',
    check_unicast_src: 'not implemented yet',
    unicast_fault_no_peer: 'not implemented yet',
    unicast_ttl: 'tandem sends every advert with TTL 255',
    old_unicast_checksum: 'the checksum of keepalived 1.3.6 and older is not implemented',
    garp_lower_prio_delay: GARP,
    garp_master_refresh_repeat: GARP,
    garp_extra_if: GARP,
    timer_expired_backup: 'not implemented yet',
    higher_prio_send_advert: 'not implemented yet',
    virtual_ipaddress_excluded: 'excluded addresses are not implemented; list them in virtual_ipaddress',
    no_virtual_ipaddress: 'an instance without addresses is judged by the semantic checks',
    promote_secondaries: 'not implemented yet',
    debug: 'use the tandem log level',
    notify_master_rx_lower_pri: 'not implemented yet',
    notify_priority_changes: FIFO,
    notify_deleted: 'not implemented yet',
    kernel_rx_buf_size: 'not needed',
    linkbeat_use_polling: 'tandem follows link state through netlink',
    lvs_sync_daemon_interface: SYNC,
  },
  authentication: {},
  'virtual_ipaddress entry': {
    ...each(['brd', 'scope', 'peer', 'preferred_lft', 'track_group'], 'this per-address option is not implemented'),
    ...each(
      ['home', '-nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'no_track', 'use_vmac'],
      'this per-address flag is not implemented',
    ),
  },
  'unicast_peer entry': {
    min_ttl: 'TTL checks on unicast adverts are not implemented',
    max_ttl: 'TTL checks on unicast adverts are not implemented',
  },
  'track_* entry': {},
  vrrp_sync_group: {
    ...each(
      ['track_interface', 'track_script', 'track_file', 'track_process', 'track_bfd'],
      'sync group tracking is not implemented; track on the member instances',
    ),
    notify_deleted: 'not implemented yet',
    notify_priority_changes: FIFO,
    global_tracking: 'deprecated in keepalived; not implemented',
  },
  'virtual_server_group entry': {},
  virtual_server: {
    omega: 'quorum_down and real-server notifiers are not run at shutdown',
    ha_suspend: 'checks run whether or not this node holds the vip',
    snmp_name: EMAIL,
    ip_family: "a fwmark service takes its real servers' family",
    ...each(
      ['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback', 'ops', 'hashed'],
      'IPVS scheduler flags do not apply to the nft data plane',
    ),
    persistence_engine: 'persistence engines (sip) are not implemented; persistence is by client address',
    sorry_server_inhibit: 'not implemented yet',
    sorry_server_lvs_method: "the sorry server is reached with the service's method",
  },
  real_server: {
    notify_up: 'real-server notify scripts are not implemented yet; tandem logs every change',
    notify_down: 'real-server notify scripts are not implemented yet; tandem logs every change',
    uthreshold: 'connection thresholds are not implemented',
    lthreshold: 'connection thresholds are not implemented',
    snmp_name: EMAIL,
    BFD_CHECK: 'BFD is not implemented; the real server is not checked by it',
    'a second checker':
      'tandem runs one check per real server: the first TCP_CHECK, HTTP_GET, SSL_GET or MISC_CHECK; ' +
      'the others are ignored with a warning (keepalived requires all of them to pass)',
  },
  TCP_CHECK: {
    ...each(['bind_if', 'bind_port', 'fwmark'], CHECKER_OPT),
    nb_get_retry: 'keepalived 2 does not read it in TCP_CHECK either (Unknown keyword): write retry',
    log_all_failures: 'check results are logged when a server changes state',
  },
  'HTTP_GET, SSL_GET': {
    ...each(['bind_if', 'bind_port', 'fwmark'], CHECKER_OPT),
    log_all_failures: 'check results are logged when a server changes state',
    http_protocol: 'tandem sends HTTP/1.1 with Connection: close',
    fast_recovery: 'every url is checked at each run; a failing server is retried as retry says',
    tls_compliant: 'not implemented yet',
  },
  url: {
    ...each(
      ['regex_options', 'regex_stack', 'regex_min_offset', 'regex_max_offset'],
      'the regex is a JavaScript regular expression run on the whole body; PCRE options are not implemented',
    ),
  },
  MISC_CHECK: {
    connect_timeout: 'MISC_CHECK is timed by misc_timeout',
    log_all_failures: 'check results are logged when a server changes state',
  },
  UDP_CHECK: { ...each(['bind_if', 'bind_port', 'fwmark'], CHECKER_OPT), log_all_failures: LOGGED },
  PING_CHECK: {
    ...each(['bind_if', 'fwmark'], CHECKER_OPT),
    connect_port: 'an echo request has no port',
    log_all_failures: LOGGED,
  },
  SMTP_CHECK: { ...each(['bind_if', 'bind_port', 'fwmark'], CHECKER_OPT), log_all_failures: LOGGED },
  host: { ...each(['bind_if', 'bind_port', 'fwmark'], CHECKER_OPT) },
  DNS_CHECK: { ...each(['bind_if', 'bind_port', 'fwmark'], CHECKER_OPT), log_all_failures: LOGGED },
  FILE_CHECK: {},
};

/** Valid keepalived keywords or values that tandem refuses with an error, by block: keyword → why. */
/** Why TUN is refused (keepalived lb_kind TUN, Piranha network = tunnel). */
export const TUN_WHY =
  'TUN (IP-in-IP tunnelling) cannot be built on nftables: nft has no encapsulation statement, and routing ' +
  'marked packets into a tunnel per real server would need conntrack, which direct routing bypasses; use DR (real ' +
  "servers on the director's segment) or NAT";

export const REJECTED: KeywordTable = {
  preprocessor: {
    '~SEQ, ~SEQx, ~LST': 'loops are not expanded yet; write the lines out',
    '${_RANDOM}': 'a random value would make every node read a different config; write the value out',
    '${_ENV VAR}': 'the reader does not read the environment; write the value out',
  },
  'top level': {},
  global_defs: {
    vrrp_mcast_group4: 'tandem uses the standard group 224.0.0.18 only; peers on another group would not hear it',
    vrrp_mcast_group6: 'tandem uses the standard group ff02::12 only; peers on another group would not hear it',
  },
  vrrp_script: {},
  track_file: {},
  vrrp_instance: {
    mcast_dst_ip: 'tandem uses the standard VRRP group only; peers on another group would not hear it',
    auth_hmac: 'HMAC authentication is not implemented; the peers would drop unsigned adverts',
  },
  authentication: {
    auth_type: 'AH (IPsec-AH, HMAC-MD5-96) is not implemented: the peers would drop every advert; use PASS or none',
  },
  'virtual_ipaddress entry': {},
  'unicast_peer entry': {},
  'track_* entry': {},
  vrrp_sync_group: {},
  'virtual_server_group entry': {},
  virtual_server: {
    lvs_sched: `${OTHER_SCHEDULERS.join(', ')} are not implemented: tandem schedules ${LB_SCHEDULERS.join(', ')}`,
    lb_algo: `${OTHER_SCHEDULERS.join(', ')} are not implemented: tandem schedules ${LB_SCHEDULERS.join(', ')}`,
    lvs_method: TUN_WHY,
    lb_kind: TUN_WHY,
    protocol: 'SCTP is not implemented; tandem balances TCP and UDP',
  },
  real_server: {
    lvs_method:
      "a method other than the service's: tandem forwards every real server of a service the same way, and TUN " +
      'cannot be built on nftables (no encapsulation statement)',
  },
  TCP_CHECK: {},
  'HTTP_GET, SSL_GET': {},
  url: {},
  MISC_CHECK: {},
  UDP_CHECK: {},
  PING_CHECK: {},
  SMTP_CHECK: {},
  host: {},
  DNS_CHECK: {},
  FILE_CHECK: {},
};

/** Whether `keyword` is a keepalived keyword of `block` (whatever tandem does with it). */
export function isKeepalivedKeyword(block: KaBlock, keyword: string): boolean {
  return (
    Object.hasOwn(SUPPORTED[block], keyword) ||
    Object.hasOwn(WARNED[block], keyword) ||
    Object.hasOwn(REJECTED[block], keyword)
  );
}

const KEYWORD_LISTS = new Map<KaBlock, readonly string[]>();

/** Every keepalived keyword of `block`, for "did you mean" suggestions. */
export function keepalivedKeywords(block: KaBlock): readonly string[] {
  let list = KEYWORD_LISTS.get(block);
  if (!list) {
    const all = new Set([
      ...Object.keys(SUPPORTED[block]),
      ...Object.keys(WARNED[block]),
      ...Object.keys(REJECTED[block]),
    ]);
    list = [...all].filter((k) => /^[A-Za-z0-9_-]+$/.test(k));
    KEYWORD_LISTS.set(block, list);
  }
  return list;
}

/**
 * Top-level keywords that are valid nowhere else. Meeting one inside a block means that block was not closed; the
 * reader reports it there and carries on at the top level, so one missing '}' yields one diagnostic.
 */
export const TOP_ONLY: ReadonlySet<string> = new Set([
  'global_defs',
  'vrrp_script',
  'vrrp_track_file',
  'vrrp_instance',
  'vrrp_sync_group',
  'virtual_server',
  'virtual_server_group',
  'SSL',
  'static_ipaddress',
  'static_routes',
  'static_rules',
  'linkbeat_interfaces',
  'bfd_instance',
  'vrrp_track_process',
  'garp_group',
  'track_group',
  'interface_up_down_delays',
]);
