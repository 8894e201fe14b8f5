"""The sandbox's last step before a script runs: a Landlock rule set on the process.

Inside bubblewrap, a script could still read the kernel's mount tables (/proc/*/mountinfo,
/proc/*/mounts, /proc/*/mountstats), whose `root` fields name the host paths that were bound in
(the project, the cache, the home folder), wherever they are mounted inside. Landlock (Linux 5.13+)
lets an unprivileged process give up rights for itself and every process it starts: here, the right
to read files anywhere but below the sandbox's own top-level folders, a few machine-wide /proc
files and this process's own /proc files other than its mount tables. The seccomp filter closes the
system calls that would tell the same (statmount, listmount). The rule set also keeps symbolic
links out of every folder but those given with `--links` (see restrict).

Run as `python -I -S -c <this file> [--held=GATE[,SIGN]] [--links=[DEV:INO]:DIR]... MODE ...`,
isolated and before `site`, so nothing of the environment, the project or site-packages (a `.pth`
file of a dependency) runs before the rule set:

- `script PATH ARGS...`: restricts, then runs the Python script PATH as `python PATH ARGS...` would
  (site-packages, sys.argv, sys.path[0], unbuffered output when PYTHONUNBUFFERED is set, and the
  interpreter flags its own child interpreters inherit);
- `exec PROGRAM ARGS...`: restricts, then becomes PROGRAM;
- `bare PROGRAM ARGS...`: becomes PROGRAM without restricting its reads (a program that scopes its
  own reads, Deno, started this way to close what it would inherit, see below, or, given
  `--links`, to keep links out of the folders it writes in place);
- `abi`: prints the Landlock ABI version this kernel offers (0 when none).

In both modes, every descriptor the step inherited above standard error is closed first (but the
gate's two below): what a parent left open does not reach the script.

With `--held=GATE,SIGN` before the mode (a sandbox started ahead of its run), the step restricts
itself, then waits for one newline on descriptor GATE before it goes on, and closes GATE: nothing of
the script, its interpreter's `site` or its dependencies runs before the run is released. End of
input without the newline (the run was discarded) ends the step with 125. Once released, it writes
its sign (GATE_PASSED) on descriptor SIGN (standard error when not given) and closes it (unless it
is one of the standard three), so no descriptor of the sandbox reaches the sign's file once the
script runs. Before it waits, in `script` mode, it
loads the standard-library modules the script's top-level lines import (see preload).

Last, in `script` and `exec` modes, a step not held whose standard output is a pipe that nobody
reads any more ends with 125 (see exit_if_orphaned): the Capibara that started the sandbox is gone.
A held step needs no such look: its gate's end of input tells the same, and a sandbox reaches its
gate only once bubblewrap ties its life to its caller's.

On a kernel without Landlock the script runs without it (`capibara doctor` says so); a failure
while restricting on a kernel that has it stops the run (exit 125).
"""
import sys

# Files below /proc that stay readable: machine-wide figures programs size themselves by, and
# (of this process only) what libc, Python and their libraries read about themselves.
PROC_FILES = ("cpuinfo", "meminfo", "stat", "uptime", "loadavg", "version", "filesystems", "sys")
OWN_PROC_FILES = (
    "auxv", "cgroup", "cmdline", "comm", "environ", "fd", "fdinfo", "io", "limits", "maps",
    "net", "smaps", "stat", "statm", "status",
)

LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_ACCESS_FS_READ_FILE = 1 << 2
LANDLOCK_ACCESS_FS_MAKE_SYM = 1 << 12
LANDLOCK_ACCESS_FS_REFER = 1 << 13
PR_SET_NO_NEW_PRIVS = 38
GATE_PASSED = b"\x06"


def libc_calls():
    """libc's syscall() and prctl() and the errno getter, through `_ctypes`.

    ctypes' own module costs a script's start ≈ 5 ms (it builds its whole type zoo); these calls
    need only a C long, a function pointer type and the process's own symbol table.
    """
    import _ctypes

    class c_long(_ctypes._SimpleCData):
        _type_ = "l"

    class Function(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _restype_ = c_long

    class Library:  # what a function pointer looks its name up in: this process's own symbols
        _handle = _ctypes.dlopen(None, 0)

    syscall = Function(("syscall", Library()))
    prctl = Function(("prctl", Library()))

    def call(function, *args):
        return function(*(arg if isinstance(arg, bytes) else c_long(arg) for arg in args))

    return (lambda *args: call(syscall, *args)), (lambda *args: call(prctl, *args)), \
        _ctypes.get_errno


def abi_version(syscall):
    """The Landlock ABI this kernel offers (0: none)."""
    return max(syscall(LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION), 0)


def restrict(links=(), reads=True):
    """Applies the rule set to this process; returns the ABI version (0: no Landlock here).

    With `reads`, files may be read only below the sandbox's own top-level folders and the /proc
    files named above. Symbolic links may be made (or renamed) below the folders `links` names
    only, pairs of the (device, inode) the folder must be, or None, and its path: the run's own
    temp dir and staged outputs, never a folder written in place, whose links Capibara's host-side
    steps (another run's binds, the move of outputs) and other runs would follow. A path that
    leads elsewhere when opened gets no right. A file or folder may be moved or hard-linked into
    another folder below those same folders only (elsewhere the kernel answers EXDEV, as Landlock
    does by default from ABI 2 on, and `mv` or `shutil.move` copy instead): a folder holding a
    link, moved, would make the link lead elsewhere.
    """
    import os

    syscall, prctl, get_errno = libc_calls()
    abi = abi_version(syscall)
    if abi < 1:
        return 0

    def fail(what):
        sys.stderr.write(f"capibara: cannot {what}: {os.strerror(get_errno())}\n")
        sys.stderr.flush()
        os._exit(125)

    read = LANDLOCK_ACCESS_FS_READ_FILE if reads else 0
    refer = LANDLOCK_ACCESS_FS_REFER if abi >= 2 else 0
    make_sym = LANDLOCK_ACCESS_FS_MAKE_SYM
    # The kernel's structs in native byte order, packed (`struct` costs a start ≈ 1.3 ms).
    # struct landlock_ruleset_attr { __u64 handled_access_fs; }
    attr = (read | refer | make_sym).to_bytes(8, sys.byteorder)
    ruleset = syscall(LANDLOCK_CREATE_RULESET, attr, len(attr), 0)
    if ruleset < 0:
        fail("create the Landlock rule set")

    def allow(path, access, flags=0, identity=None):
        if not access:
            return
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC | flags)
        except OSError:
            return
        try:
            opened = os.fstat(fd)
            if identity is not None and (opened.st_dev, opened.st_ino) != identity:
                return  # not the folder meant (its place was renamed away): no right given
            if opened.st_mode & 0o170000 != 0o040000:
                access &= LANDLOCK_ACCESS_FS_READ_FILE  # a file takes a file's rights only
                if not access:
                    return
            # struct landlock_path_beneath_attr { __u64 allowed_access; __s32 parent_fd; } (packed)
            rule = access.to_bytes(8, sys.byteorder) + fd.to_bytes(4, sys.byteorder, signed=True)
            if syscall(LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, rule, 0) != 0:
                fail(f"add a Landlock rule for {path}")
        finally:
            os.close(fd)

    for name in os.listdir("/"):
        if name != "proc":
            allow("/" + name, read)
    for name in PROC_FILES:
        allow("/proc/" + name, read)
    own = f"/proc/{os.getpid()}/"
    for name in OWN_PROC_FILES:
        allow(own + name, read)
    for identity, path in links:
        # A folder's right (none for a file: os.O_DIRECTORY), moves included.
        allow(path, make_sym | refer, os.O_DIRECTORY, identity)
    if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        fail("set no_new_privs")
    if syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
        fail("apply the Landlock rule set")
    os.close(ruleset)
    return abi


def run_script(path, args):
    """Runs the script as `python PATH ARGS...` would, in this interpreter."""
    import os

    environ = os.environ
    flags = sys.flags
    if environ.get("PYTHONDONTWRITEBYTECODE"):
        sys.dont_write_bytecode = True
    if environ.get("PYTHONUNBUFFERED"):
        import io

        for name, fd in (("stdout", 1), ("stderr", 2)):
            stream = getattr(sys, name)
            if stream is None:
                continue
            unbuffered = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False),
                                          encoding=stream.encoding, errors=stream.errors,
                                          write_through=True)
            setattr(sys, name, unbuffered)
            setattr(sys, "__" + name + "__", unbuffered)
    # Imported before the flags change: site.py runs its main() when imported without -S, and it
    # runs once, below.
    import site

    # Interpreters this one starts (multiprocessing's spawn and forkserver) copy its flags: they
    # get those of a plain `python PATH`, not this step's -I -S, or they would lack site-packages.
    fields = getattr(type(flags), "__match_args__", None)
    if fields:
        plain = {name: getattr(flags, name) for name in fields}
        plain.update(isolated=0, no_site=0, ignore_environment=0, safe_path=False,
                     no_user_site=int(bool(environ.get("PYTHONNOUSERSITE")) or flags.no_user_site),
                     dont_write_bytecode=int(sys.dont_write_bytecode))
        sys.flags = type("flags", (tuple,), {
            name: property(lambda self, i=i: self[i]) for i, name in enumerate(fields)
        })(plain[name] for name in fields)

    site.main()
    # As CPython runs a script file: in the __main__ module, with its folder first on sys.path.
    script = os.path.abspath(path)
    with open(script, "rb") as file:
        # Compiled as the UTF-8 text it is reviewed as: from text, Python ignores a coding
        # declaration (under utf-7, a line shown as a comment would run as code).
        code = compile(file.read().decode("utf-8-sig"), script, "exec", dont_inherit=True)
    sys.argv[:] = [path, *args]
    sys.path.insert(0, os.path.dirname(script))
    import __main__
    from _frozen_importlib_external import SourceFileLoader

    namespace = __main__.__dict__
    builtins = namespace["__builtins__"]
    namespace.clear()
    namespace.update(__name__="__main__", __doc__=None, __package__=None, __spec__=None,
                     __file__=script, __cached__=None, __builtins__=builtins, __annotations__={},
                     __loader__=SourceFileLoader("__main__", script))
    exec(code, namespace)


# Standard-library modules without side effects on import, which a held start loads while it waits
# (see preload): what scripts import most, nothing that prints, opens a window or a browser, runs a
# program, or reads the environment when imported. Packages count by their own name only, but for
# the submodules listed beside them.
PRELOADABLE = frozenset((
    "abc", "argparse", "array", "base64", "bisect", "calendar", "codecs", "collections",
    "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "email", "enum",
    "fnmatch", "fractions", "functools", "glob", "gzip", "hashlib", "heapq", "hmac", "html", "http",
    "io", "ipaddress", "itertools", "json", "math", "numbers", "operator", "os", "pathlib",
    "pprint", "queue", "random", "re", "secrets", "shlex", "shutil", "socket", "sqlite3",
    "statistics", "string", "struct", "subprocess", "tarfile", "tempfile", "textwrap", "time",
    "typing", "unicodedata", "urllib", "uuid", "xml", "zipfile", "zlib",
))
PRELOADABLE_SUBMODULES = frozenset((
    "collections.abc", "email.message", "email.utils", "html.parser", "http.client", "os.path",
    "urllib.parse", "urllib.request", "xml.dom.minidom", "xml.etree.ElementTree",
))
# The most names, and the most of the script, a preload looks at.
PRELOAD_MAX_NAMES = 32
PRELOAD_MAX_BYTES = 1 << 16


def preload_names(script):
    """The modules preload loads for `script`: those of its top-level lines (`import x`,
    `from x import y`, at column 0) that PRELOADABLE or PRELOADABLE_SUBMODULES name, and that no
    module beside the script would shadow; at most PRELOAD_MAX_NAMES, from the first
    PRELOAD_MAX_BYTES of a regular file (never through a link: the script is not checked yet)."""
    import os

    if sys.version_info < (3, 9) or any(name.startswith("OPENSSL_") for name in os.environ):
        # Python 3.8's uuid runs `uname`; OpenSSL's configuration (hashlib, http, urllib) may
        # load modules of its own when a variable names another one.
        return []
    try:
        fd = os.open(script, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return []
        text = os.read(fd, PRELOAD_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return []
    finally:
        os.close(fd)
    folder = os.path.dirname(os.path.abspath(script))
    names = []
    for line in text.splitlines():
        if line.startswith("import "):
            parts = [part.split(" as ")[0].strip() for part in line[7:].split("#")[0].split(",")]
        elif line.startswith("from ") and " import " in line:
            parts = [line[5:].split(" import ")[0].strip()]
        else:
            continue
        for name in parts:
            top = name.split(".")[0]
            if name in names or not (name in PRELOADABLE or name in PRELOADABLE_SUBMODULES):
                continue
            if os.path.lexists(os.path.join(folder, top + ".py")) or \
                    os.path.lexists(os.path.join(folder, top)):
                continue  # the script's own module of that name, as `python script.py` finds
            names.append(name)
            if len(names) >= PRELOAD_MAX_NAMES:
                return names
    return names


def preload(script):
    """While a held start waits for its run: imports the standard-library modules the script's
    top-level lines name (see preload_names), so that the script finds them loaded once released
    (its imports are most of a short script's run). Only the standard library can load now: this
    interpreter runs isolated and before `site` (-I -S), so `sys.path` holds no site-packages and
    neither the working directory nor the script's folder; the script's lines are read as text,
    never run.

    Done here, before the gate, in this thread: a thread of its own would gain nothing (the
    script waits for the preload either way, and the GIL runs one import at a time) and cost the
    sandbox's start `threading`'s own import (≈ 5 ms here), on the way to the gate of every held
    run; a module that imports `threading` is then imported in the main thread, as the script
    would (imported from another thread, `threading` takes that thread for the main one)."""
    names = preload_names(script)
    if not names:
        return
    writes_bytecode = sys.dont_write_bytecode
    # -I ignores PYTHONDONTWRITEBYTECODE: none is written now (run_script decides for the script);
    # what each module writes itself, it writes then.
    sys.dont_write_bytecode = True
    try:
        for name in names:
            try:
                __import__(name)
            except Exception:  # the script's own import says what is wrong
                pass
    finally:
        sys.dont_write_bytecode = writes_bytecode


def close_inherited(keep):
    """Closes every descriptor above stderr but those in `keep`: a parent's descriptor left open
    without close-on-exec (a file, a socket, a build tool's pipe) must not reach the script."""
    import os

    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def exit_if_orphaned():
    """Ends the step (125) when its output is a pipe nobody reads any more: the Capibara that
    started the sandbox is gone. bubblewrap ties the sandbox's life to its caller (--die-with-parent)
    only once its set-up is done; a caller killed during the set-up (the OOM killer, kill -9) left
    the sandbox running, no time limit watching it. Its output pipe's only reader was that caller."""
    import os

    if os.fstat(1).st_mode & 0o170000 != 0o010000:  # not a pipe (a file, a terminal): nothing told
        return
    import select

    poll = select.poll()
    poll.register(1, select.POLLOUT)
    if any(events & select.POLLERR for _, events in poll.poll(0)):
        os._exit(125)


def wait_for_release(held):
    """Blocks until the run is released (one newline on the gate), closes the gate, writes the
    sign on its descriptor and closes that too (standard error stays)."""
    import os

    gate, sign = (held + (2,))[:2]
    try:
        go = os.read(gate, 1)
        os.close(gate)
    except OSError:
        go = b""
    if go != b"\n":
        os._exit(125)
    # The sign that the run went through (exec.ts's GATE_PASSED), before anything of it runs:
    # without it, the run is started afresh, so a step that cannot write it goes no further. Its
    # descriptor is closed before the script runs: nothing in the sandbox holds it then.
    try:
        written = os.write(sign, GATE_PASSED)
        if sign > 2:
            os.close(sign)
    except OSError:
        written = 0
    if written != 1:
        os._exit(125)


def main():
    args = sys.argv[1:]
    held = None
    if args and args[0].startswith("--held="):
        held = tuple(int(fd) for fd in args[0][len("--held="):].split(","))
        args = args[1:]
    # Python sets LC_CTYPE itself when the locale is C (PEP 538): what this step starts gets the
    # value it was meant to have (--no-lc-ctype: none), not Python's.
    lc_ctype = False
    if args and args[0].startswith("--lc-ctype="):
        lc_ctype = args[0][len("--lc-ctype="):]
        args = args[1:]
    elif args and args[0] == "--no-lc-ctype":
        lc_ctype = None
        args = args[1:]
    # --links=DEV:INO:PATH (the folder the path must lead to) or --links=:PATH (the sandbox's own).
    links = []
    while args and args[0].startswith("--links="):
        value = args[0][len("--links="):]
        args = args[1:]
        if value.startswith(":"):
            links.append((None, value[1:]))
            continue
        dev, ino, path = value.split(":", 2)
        links.append(((int(dev), int(ino)), path))
    mode = args[0] if args else ""
    if mode == "abi":
        print(abi_version(libc_calls()[0]))
        return
    if mode in ("script", "exec", "bare"):
        close_inherited(held or ())
    if mode == "script" and len(args) > 1:
        restrict(links)
        if held is not None:
            preload(args[1])
            wait_for_release(held)
        else:
            exit_if_orphaned()
        run_script(args[1], args[2:])  # the script's own code: nothing may follow it here
        return
    if mode in ("exec", "bare") and len(args) > 1:
        import os

        if mode == "exec":
            restrict(links)
        elif links:
            # A program that scopes its own reads, in a sandbox with folders written in place:
            # the rule on links only.
            restrict(links, reads=False)
        if held is not None:
            wait_for_release(held)
        elif mode == "exec":
            exit_if_orphaned()
        if lc_ctype is None:
            os.environ.pop("LC_CTYPE", None)
        elif lc_ctype is not False:
            os.environ["LC_CTYPE"] = lc_ctype
        try:
            os.execvp(args[1], args[1:])
        except OSError as error:
            sys.stderr.write(f"capibara: cannot run {args[1]}: {error.strerror}\n")
            sys.exit(127)
    sys.stderr.write("usage: python -I -S -c <landlock.py> script|exec|abi ...\n")
    sys.exit(125)


main()
