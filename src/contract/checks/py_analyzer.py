"""Capibara's static analysis of a Python script: parses the file named by argv[1] with `ast` and
prints facts as JSON (imports, calls, string literals, environment reads). It never executes the
script. Names are resolved through the script's imports (`from subprocess import run as r` makes
`r()` a call of `subprocess.run`) and through names assigned exactly once
(`p = "/etc/passwd"; os.remove(p)`).

Runs on Python 3.8 and later, with -I -S, inside the same sandbox as scripts where one exists.
"""
import ast, json, sys

PATHLIKE = {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath",
            "os.path.join", "os.fspath", "str", "os.path.abspath", "os.path.normpath",
            "os.path.realpath", "os.path.expanduser"}
PATH_METHODS = {"expanduser", "resolve", "absolute", "joinpath", "with_name", "with_suffix"}
ENV_CALLS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "os.environ.pop"}
DYNAMIC_IMPORTS = {"__import__", "builtins.__import__", "importlib.import_module"}
DYNAMIC_CODE = {"eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile"}


def analyse(source, depth=0):
    out = {"imports": [], "calls": [], "strings": [], "env": []}
    try:
        tree = ast.parse(source, "script.py")
        # What the parser lets through and the compiler refuses ('return' outside a function, a
        # nonlocal at module level): the script must compile, and it is compiled here, confined.
        if depth == 0:
            compile(tree, "script.py", "exec", dont_inherit=True)
    except SyntaxError as exc:
        out["syntax_error"] = "%s: %s (line %s)" % (type(exc).__name__, exc.msg, exc.lineno)
        out["syntax_line"] = exc.lineno
        return out
    except (ValueError, RecursionError, MemoryError) as exc:
        out["syntax_error"] = "%s: %s" % (type(exc).__name__, exc)
        return out

    aliases, bindings, values, docs = {}, {}, {}, set()

    def bind(name):
        bindings[name] = bindings.get(name, 0) + 1

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                aliases[a.asname or top] = a.name if a.asname else top
                bind(a.asname or top)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if node.level == 0 and node.module and a.name != "*":
                    aliases[a.asname or a.name] = node.module + "." + a.name
                bind(a.asname or a.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bind(node.id)
        elif isinstance(node, ast.arg):
            bind(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name)
        elif type(node).__name__ in ("MatchAs", "MatchStar") and getattr(node, "name", None):
            bind(node.name)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.value is not None:
            values[node.target.id] = node.value
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            docs.add(id(node.body[0].value))

    def single(name):
        return values.get(name) if bindings.get(name) == 1 else None

    def dotted(e):
        if isinstance(e, ast.Name):
            return aliases.get(e.id, e.id)
        if isinstance(e, ast.Attribute):
            base = dotted(e.value)
            return None if base is None else base + "." + e.attr
        return None

    def rooted_name(e):
        # A name or attribute path that starts at an imported module.
        return (isinstance(e, ast.Name) and e.id in aliases) or \
            (isinstance(e, ast.Attribute) and rooted(e))

    def rooted(e):
        while isinstance(e, ast.Attribute):
            e = e.value
        return isinstance(e, ast.Name) and e.id in aliases

    def text(value):
        return value.decode("latin-1") if isinstance(value, bytes) else value

    def is_bytes(e, depth=0):
        # A literal of bytes (spelt as one, joined, or named once): exec() and compile() decode it
        # as Python decodes a file, by its own coding declaration (PEP 263).
        if e is None or depth > 6:
            return False
        if isinstance(e, ast.Constant):
            return isinstance(e.value, bytes)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            return is_bytes(e.left, depth + 1) or is_bytes(e.right, depth + 1)
        if isinstance(e, ast.Name):
            return is_bytes(single(e.id), depth + 1)
        return False

    def literal(e, depth=0):
        if e is None or depth > 6:
            return None
        if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
            return text(e.value)
        if isinstance(e, ast.JoinedStr):
            parts = [literal(v, depth + 1) for v in e.values]
            return None if None in parts else "".join(parts)
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Div)):
            left, right = literal(e.left, depth + 1), literal(e.right, depth + 1)
            if left is None or right is None:
                return None
            return left + right if isinstance(e.op, ast.Add) else left.rstrip("/") + "/" + right
        if isinstance(e, ast.Call) and dotted(e.func) in PATHLIKE and e.args and not e.keywords:
            parts = [literal(a, depth + 1) for a in e.args]
            return None if None in parts else "/".join(parts)
        if isinstance(e, ast.Name):
            return literal(single(e.id), depth + 1)
        return None

    def head(e, depth=0):
        if e is None or depth > 6:
            return None
        if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
            return text(e.value)
        if isinstance(e, ast.JoinedStr):
            return head(e.values[0], depth + 1) if e.values else ""
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Div)):
            return head(e.left, depth + 1)
        if isinstance(e, ast.Call):
            name = dotted(e.func) or ""
            if name.endswith("Path.home"):
                return "~"
            if name in PATHLIKE and e.args:
                return head(e.args[0], depth + 1)
            if isinstance(e.func, ast.Attribute) and e.func.attr in PATH_METHODS \
                    and not rooted(e.func):
                return head(e.func.value, depth + 1)
        if isinstance(e, ast.Name):
            return head(single(e.id), depth + 1)
        return None

    def fragments(e, depth=0):
        found = []
        if e is None or depth > 3:
            return found
        for n in ast.walk(e):
            if isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)):
                found.append(text(n.value))
            elif isinstance(n, ast.Name) and single(n.id) is not None:
                found.extend(fragments(single(n.id), depth + 1))
            elif isinstance(n, ast.Call):
                name = dotted(n.func) or ""
                if name.endswith("Path.home") or name == "os.path.expanduser" \
                        or (isinstance(n.func, ast.Attribute) and n.func.attr == "expanduser"):
                    found.append("~")
        return found[:50]

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for a in node.names:
                out["imports"].append({"module": a.name, "line": line})
        elif isinstance(node, ast.ImportFrom):
            out["imports"].append({"module": node.module or "", "line": line,
                                   "names": [a.name for a in node.names], "level": node.level})
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            entry = {"value": text(node.value), "line": line}
            if id(node) in docs:
                entry["doc"] = True
            out["strings"].append(entry)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and dotted(node.value) == "os.environ":
            key = node.slice.value if type(node.slice).__name__ == "Index" else node.slice
            name = literal(key)
            if name is not None:
                out["env"].append({"name": name, "line": line})
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            first = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg in ("path", "src", "name", "key")), None)
            call = {"name": name, "line": line,
                    "args_literal": all(not isinstance(a, ast.Starred) and literal(a) is not None
                                        for a in node.args),
                    "arg0": literal(first), "head0": head(first), "frag0": fragments(first)}
            if isinstance(node.func, ast.Attribute) and not rooted(node.func):
                call["method"] = node.func.attr
                call["recv_head"] = head(node.func.value)
                call["recv_frag"] = fragments(node.func.value)
            out["calls"].append(call)
            if name in ENV_CALLS and call["arg0"] is not None:
                out["env"].append({"name": call["arg0"], "line": line})
            if name in DYNAMIC_IMPORTS and call["arg0"] is not None:
                out["imports"].append({"module": call["arg0"], "line": line, "dynamic": True})
            if name == "getattr" and len(node.args) >= 2 and rooted(node.args[0]):
                target, attr = dotted(node.args[0]), literal(node.args[1])
                if target is not None and attr is not None:
                    out["calls"].append({"name": target + "." + attr, "line": line,
                                         "args_literal": False, "via": "getattr"})
            if name in DYNAMIC_CODE and call["arg0"] is not None and depth < 3:
                # Literal code is analysed too, its findings reported on the line of the call;
                # bytes as their bytes, which the parser decodes as exec() does.
                code = call["arg0"].encode("latin-1") if is_bytes(first) else call["arg0"]
                inner = analyse(code, depth + 1)
                for key in ("imports", "calls", "strings", "env"):
                    for item in inner.get(key, []):
                        item["line"] = line
                        out[key].append(item)
    # A module's function taken without a call (`run = os.system`), or by a literal key of its
    # namespace (`vars(os)["system"]`, `os.__dict__["popen"]`): the rules see it as the call it
    # is for.
    nodes = list(ast.walk(tree))
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    inner_parts = {id(n.value) for n in nodes if isinstance(n, ast.Attribute)}
    for node in nodes:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) \
                and id(node) not in called and id(node) not in inner_parts and rooted(node):
            name = dotted(node)
            if name is not None:
                out["calls"].append({"name": name, "line": line, "args_literal": False,
                                     "via": "a reference"})
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            owner = node.value
            if isinstance(owner, ast.Call) and dotted(owner.func) in ("vars", "builtins.vars") \
                    and len(owner.args) == 1 and rooted_name(owner.args[0]):
                module = dotted(owner.args[0])
            elif isinstance(owner, ast.Attribute) and owner.attr == "__dict__" \
                    and rooted_name(owner.value):
                module = dotted(owner.value)
            else:
                continue
            key = node.slice.value if type(node.slice).__name__ == "Index" else node.slice
            attr = literal(key)
            if module is not None and attr is not None:
                out["calls"].append({"name": module + "." + attr, "line": line,
                                     "args_literal": False, "via": "its namespace"})
    return out


def main():
    with open(sys.argv[1], "rb") as fh:
        source = fh.read()
    try:
        out = analyse(source)
    except Exception as exc:
        out = {"error": "%s: %s" % (type(exc).__name__, exc)}
    sys.stdout.write(json.dumps(out))


main()
