#!/usr/bin/env python3
"""Generates src/sandbox/seccomp_bpf.ts: the sandbox's seccomp filter, compiled by libseccomp.

The policy is this file: default allow (like Flatpak's and Docker's blocklists), and an error for
each system call that a script has no business making (kernel keyrings, io_uring, userfaultfd, eBPF,
perf, ptrace, mounts and namespaces, kernel modules, clocks, hostname, terminal input injection;
setting extended attributes or set-user-ID and set-group-ID bits, which outlive the run), socket
families other than unix, inet and inet6, and inet sockets other than TCP (see SOCKETS below).
clone3 and openat2 answer ENOSYS so that libc falls back to clone and openat, whose arguments can
be checked. A foreign architecture (i386 via int 0x80, x32) is killed.

A blocklist does not know the system calls added after it: every number above the newest one
libseccomp knows answers ENOSYS ("not implemented", which libc and runtimes fall back from), as in
Docker's default profile. That closes statmount and listmount (Linux 6.8), which print a mount's
`root` (a host path) as /proc/*/mountinfo would, and whatever a newer kernel adds. libseccomp
cannot compare system call numbers, so this check is a short classic-BPF prefix in front of its
program (prefixing keeps libseccomp's relative jumps intact).

Run with the system Python that has libseccomp's bindings (Debian: apt-get install python3-seccomp):
    /usr/bin/python3 scripts/seccomp_gen.py > src/sandbox/seccomp_bpf.ts
"""
import base64
import errno
import json
import os
import struct
import sys
import tempfile

import seccomp

EPERM = errno.EPERM

DENIED = [
    # kernel keyrings: the host session keyring would otherwise be readable
    "keyctl", "add_key", "request_key",
    # large kernel attack surfaces
    "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "bpf",
    "perf_event_open", "fanotify_init", "lookup_dcookie", "open_by_handle_at", "name_to_handle_at",
    # other processes' memory
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "move_pages", "migrate_pages",
    # mounts and namespaces (statmount and listmount name host paths; see the prefix below)
    "statmount", "listmount", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree", "move_mount",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # the machine itself
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "syslog", "acct", "quotactl", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm", "uselib",
    "vhangup",
]

# Extended attributes: a POSIX ACL set on a file or folder the script may write (a granted folder)
# outlives the run and opens it to another user or uid; no script needs to set one. Answered as a
# file system without them answers (EOPNOTSUPP): Python's shutil, cp -a, install -m and tar then
# carry on; EPERM made coreutils fail ("preserving permissions: Operation not permitted").
NO_XATTR = ["setxattr", "lsetxattr", "fsetxattr", "setxattrat"]

CLONE_NEW_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x00000080,
}
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
S_ISUID, S_ISGID, S_IWOTH = 0o4000, 0o2000, 0o0002
O_CREAT = 0o100
O_TMPFILE_BIT = 0o20000000  # __O_TMPFILE: O_TMPFILE is it with O_DIRECTORY
# (call, argument holding the mode, argument holding the flags and the flag with which the mode
# counts, O_CREAT or O_TMPFILE, an unnamed file that linkat can name later): every call that gives
# a file or folder its mode bits.
SETS_MODE = [
    ("chmod", 1, None), ("fchmod", 1, None), ("fchmodat", 2, None), ("fchmodat2", 2, None),
    ("open", 2, (1, O_CREAT)), ("open", 2, (1, O_TMPFILE_BIT)),
    ("openat", 3, (2, O_CREAT)), ("openat", 3, (2, O_TMPFILE_BIT)), ("creat", 1, None),
    ("mkdir", 1, None), ("mkdirat", 2, None), ("mknod", 1, None), ("mknodat", 2, None),
]
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
AF_MAX = 64
SOCK_STREAM, SOCK_TYPE_MASK = 1, 0xF  # the type without SOCK_NONBLOCK and SOCK_CLOEXEC
IPPROTO_IP, IPPROTO_TCP = 0, 6
# SOCKETS: the memory bound of a run must hold for what its sockets keep queued in the kernel.
# unix sockets (stream, datagram, seqpacket; asyncio's self-pipe and subprocess pipes are them)
# are charged to the run's memory cgroup, v1 and v2 alike. cgroup v2 also charges TCP and UDP
# buffers to memory.max; cgroup v1 charges neither to memory.limit_in_bytes: TCP gets a bound of
# its own (memory.kmem.tcp.limit_in_bytes, set by src/sandbox/linux.ts), UDP and every other inet
# protocol none, and a datagram sent over the sandbox's own loopback to a socket that never reads
# stays queued (up to 2 x net.core.rmem_max a socket, gigabytes in all, measured). Nothing needs
# them: the sandbox has no way out but the proxy, over TCP, and no DNS. So inet and inet6 sockets
# are TCP alone: SOCK_DGRAM and SOCK_RAW (UDP, UDP-Lite, ICMP ping, raw) answer EPERM, and
# a stream of another protocol (MPTCP, SCTP) EPROTONOSUPPORT, as a kernel without it answers (Go
# and others fall back to TCP). Netlink is refused as an unknown family: a netlink socket can send
# to another one of the sandbox's (unicast between two user sockets), and what waits in the
# receiver's queue is charged to no cgroup (measured: 128 MiB past a 64 MiB limit); libc then
# answers getaddrinfo's AI_ADDRCONFIG optimistically, and only interface listings (getifaddrs,
# if_nameindex) fail, of which the sandbox has nothing but its loopback.
ALLOWED_FAMILIES = (AF_UNIX, AF_INET, AF_INET6)

ARCHES = {"x86_64": seccomp.Arch.X86_64, "aarch64": seccomp.Arch.AARCH64}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

# classic BPF (linux/filter.h, linux/seccomp.h)
BPF_LD_W_ABS, BPF_JMP_JEQ_K, BPF_JMP_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
SECCOMP_DATA_NR, SECCOMP_DATA_ARCH = 0, 4
SECCOMP_RET_ERRNO = 0x00050000


def newest_known(arch):
    """The highest system call number libseccomp knows for arch."""
    known = 0
    for number in range(1024):
        try:
            seccomp.resolve_syscall(arch, number)
            known = number
        except (RuntimeError, ValueError):
            pass
    return known


def unknown_prefix(name, arch):
    """BPF that answers ENOSYS for every number above the newest known one, then falls through."""
    first_unknown = newest_known(arch) + 1

    def insn(code, jt, jf, k):
        return struct.pack("=HBBI", code, jt, jf, k)

    return b"".join([
        insn(BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARCH),
        insn(BPF_JMP_JEQ_K, 0, 3, AUDIT_ARCH[name]),  # another arch: libseccomp's program decides
        insn(BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_NR),
        insn(BPF_JMP_JGE_K, 0, 1, first_unknown),
        insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.ENOSYS),
    ]), first_unknown


def build(name, arch):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.remove_arch(seccomp.Arch.NATIVE)
    f.add_arch(arch)
    for call in DENIED:
        try:
            f.add_rule(seccomp.ERRNO(EPERM), call)
        except (RuntimeError, ValueError):
            pass  # not a system call on this architecture (iopl on aarch64, …)
    for call in NO_XATTR:
        try:
            f.add_rule(seccomp.ERRNO(errno.EOPNOTSUPP), call)
        except (RuntimeError, ValueError):
            pass  # not known to this libseccomp (setxattrat)
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in CLONE_NEW_FLAGS.values():
        f.add_rule(seccomp.ERRNO(EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # A set-user-ID or set-group-ID bit on what the script leaves in a folder it may write (a
    # granted one): the user's own shell, made set-user-ID to them, would outlive the run and let
    # any other local user act as them. Refused on every call that sets a mode; openat2 (whose
    # mode seccomp cannot see) answers ENOSYS, and callers fall back to openat.
    for call, mode_arg, flag in SETS_MODE:
        for bit in (S_ISUID, S_ISGID):
            conditions = [seccomp.Arg(mode_arg, seccomp.MASKED_EQ, bit, bit)]
            if flag is not None:
                flags_arg, value = flag
                conditions.append(seccomp.Arg(flags_arg, seccomp.MASKED_EQ, value, value))
            try:
                f.add_rule(seccomp.ERRNO(EPERM), call, *conditions)
            except (RuntimeError, ValueError):
                pass  # not a system call on this architecture (open, creat, mkdir on aarch64)
    # Write for every user on a file or folder that already exists (the granted folder itself, the
    # user's files in it): another local user could change them after the run. Refused on the
    # calls that change a mode; a new file's mode passes the umask (0666 is what every open asks).
    for call, mode_arg, flag in SETS_MODE:
        if flag is not None or call in ("creat", "mkdir", "mkdirat", "mknod", "mknodat"):
            continue
        f.add_rule(seccomp.ERRNO(EPERM), call,
                   seccomp.Arg(mode_arg, seccomp.MASKED_EQ, S_IWOTH, S_IWOTH))
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "openat2")
    for request in (TIOCSTI, TIOCLINUX):
        f.add_rule(seccomp.ERRNO(EPERM), "ioctl",
                   seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
    for family in range(AF_MAX):
        if family in ALLOWED_FAMILIES:
            continue
        f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, family))
    f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.GE, AF_MAX))
    # inet and inet6: TCP alone (see SOCKETS above).
    for family in (AF_INET, AF_INET6):
        inet = seccomp.Arg(0, seccomp.EQ, family)
        for kind in range(SOCK_TYPE_MASK + 1):
            if kind == SOCK_STREAM:
                continue
            f.add_rule(seccomp.ERRNO(EPERM), "socket", inet,
                       seccomp.Arg(1, seccomp.MASKED_EQ, SOCK_TYPE_MASK, kind))
        stream = seccomp.Arg(1, seccomp.MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)
        for protocol in range(IPPROTO_IP + 1, IPPROTO_TCP):
            f.add_rule(seccomp.ERRNO(errno.EPROTONOSUPPORT), "socket", inet, stream,
                       seccomp.Arg(2, seccomp.EQ, protocol))
        f.add_rule(seccomp.ERRNO(errno.EPROTONOSUPPORT), "socket", inet, stream,
                   seccomp.Arg(2, seccomp.GT, IPPROTO_TCP))
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        prefix, first_unknown = unknown_prefix(name, arch)
        return prefix + out.read(), first_unknown


def main():
    built = {name: build(name, arch) for name, arch in ARCHES.items()}
    programs = {name: base64.b64encode(program).decode() for name, (program, _) in built.items()}
    policy = {
        "denied": DENIED,
        "no_extended_attributes": NO_XATTR,
        "clone3": "ENOSYS",
        "enosys_from": {name: first for name, (_, first) in built.items()},
        "clone_flags_denied": sorted(CLONE_NEW_FLAGS),
        "ioctl_denied": ["TIOCSTI", "TIOCLINUX"],
        "mode_bits_denied": ["S_ISUID", "S_ISGID"],
        "chmod_bits_denied": ["S_IWOTH"],
        "openat2": "ENOSYS",
        "socket_families": ["AF_UNIX", "AF_INET (TCP only)", "AF_INET6 (TCP only)"],
    }
    lines = [
        "/**",
        " * The sandbox's seccomp filter, compiled by libseccomp from scripts/seccomp_gen.py (which",
        " * states the policy and why). Generated: do not edit; run",
        " * `/usr/bin/python3 scripts/seccomp_gen.py > src/sandbox/seccomp_bpf.ts`.",
        " *",
        " * @module",
        " */",
        "",
        "/** What the filter refuses, for `capibara doctor` and the README. */",
        f"export const SECCOMP_POLICY = {json.dumps(policy, indent=2)} as const;",
        "",
        "/** The compiled classic-BPF program of each architecture, base64. */",
        "export const SECCOMP_BPF: Readonly<Record<string, string>> = {",
    ]
    for name, program in programs.items():
        lines.append(f'  {name}: "{program}",')
    lines.append("};")

    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
