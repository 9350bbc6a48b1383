#!/usr/bin/env python3
"""Writes the hostile docs trees of issue 9 (items 7 and 8) and measures a b24-codegen binary on
each: exit status, wall time, peak RSS and output size, under a time and memory cap so that a
binary without the bounds cannot take the machine down.

    codegen/fuzz/hostile.py [BINARY] [--timeout SECS] [--mem-mib MIB]

BINARY defaults to target/release/b24-codegen. The trees are written to a fresh temporary folder.
"""
import os, resource, shutil, subprocess, sys, tempfile, time

METHOD = "# {title} {name}\n\n> Who can execute the method: any user\n\n"
PARAMS_HEAD = "## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n"


def nested_tables(depth):
    """A parameter table whose `fields` row holds a table in its cell, `depth` deep."""
    open_ = "|| **f**\n`object` | Level:\n#|\n|| **Name**\n`type` | **Description** ||\n"
    close = "|#\n||\n"
    return (METHOD.format(title="Nest", name="nest.tables") + PARAMS_HEAD + open_ * depth
            + "|| **leaf**\n`string` | x ||\n" + close * depth + "|#\n")


def anchor_chain(depth):
    """`## S0` links to `#s1` which links to `#s2` ..., `depth` sections."""
    out = [METHOD.format(title="Chain", name="anchor.chain"), PARAMS_HEAD,
           "|| **f**\n[`object`](#s0) | start ||\n|#\n\n"]
    for i in range(depth):
        out.append(f"## S{i} {{#s{i}}}\n\n#|\n|| **Name**\n`type` | **Description** ||\n"
                   f"|| **f**\n[`object`](#s{i + 1}) | next ||\n|#\n\n")
    return "".join(out)


def cases(root):
    """(name, path to check, files to write: path -> bytes or a special marker)."""
    fan = ("# Fan-out fan.out\n\n> Who can execute the method: any user\n\n"
           + "{% include [again](fan.md) %}\n" * 8)
    yield "include fan-out (a page including itself 8 times)", {"fan.md": fan.encode()}
    yield "nested tables 3000 deep", {"nest.md": nested_tables(3000).encode()}
    yield "anchor chain 3000 deep", {"chain.md": anchor_chain(3000).encode()}
    yield "nested tables 300 deep (generate output)", {"nest.md": nested_tables(300).encode()}
    yield "include of /dev/zero", {"z.md": b"# Z z.z\n\n{% include [z](/dev/zero) %}\n"}
    yield "include of /etc/passwd", {
        "p.md": (METHOD.format(title="P", name="p.p") + PARAMS_HEAD
                 + "|| **a**\n`string` | {% include [p](/etc/passwd) %} ||\n"
                 + "|| **b**\n`string` | {% include [p](../../../../../../../../etc/passwd) %} ||\n"
                 + "|#\n").encode()}
    yield "link to ../outside/x.md", {
        "docs/l.md": (METHOD.format(title="L", name="l.l") + PARAMS_HEAD
                      + "|| **f**\n[`object`](../outside/x.md) | see ||\n|#\n").encode(),
        "outside/x.md": b"# Secret\n\n#|\n|| **Name**\n`type` | **Description** ||\n"
                        b"|| **SECRET_FIELD**\n`string` | the secret text ||\n|#\n"}
    yield "FIFO named x.md", {"ok.md": METHOD.format(title="Ok", name="ok.ok").encode(),
                              "x.md": "fifo"}
    yield "FIFO included", {"i.md": b"# I i.i\n\n{% include [f](f.txt) %}\n", "f.txt": "fifo"}
    yield "page not UTF-8", {"ok.md": METHOD.format(title="Ok", name="ok.ok").encode(),
                             "bad.md": b"# Bad bad.bad\n\n\xff\xfe\n"}
    yield "symlink loop", {"ok.md": METHOD.format(title="Ok", name="ok.ok").encode(),
                           "a.md": ("link", "b.md"), "b.md": ("link", "a.md")}


def write(dir_, files):
    for rel, content in files.items():
        p = os.path.join(dir_, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if content == "fifo":
            os.mkfifo(p)
        elif isinstance(content, tuple):
            os.symlink(content[1], p)
        else:
            with open(p, "wb") as f:
                f.write(content)


def main():
    args = sys.argv[1:]
    binary, timeout, mem = "target/release/b24-codegen", 60.0, 4096
    while args:
        a = args.pop(0)
        if a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--mem-mib":
            mem = int(args.pop(0))
        else:
            binary = a
    binary = os.path.abspath(binary)

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (mem << 20, mem << 20))

    top = tempfile.mkdtemp(prefix="b24-hostile-")
    print(f"{'case':48} {'command':9} {'exit':>7} {'time s':>7} {'peak RSS MiB':>12} {'out KiB':>8}")
    for n, (name, files) in enumerate(cases(top)):
        dir_ = os.path.join(top, str(n))
        write(dir_, files)
        docs = os.path.join(dir_, "docs") if any(k.startswith("docs/") for k in files) else dir_
        for command in ("check", "generate"):
            out = os.path.join(dir_, f"{command}.out")
            start = time.monotonic()
            with open(out, "wb") as f:
                p = subprocess.Popen([binary, command, docs], stdout=f, stderr=subprocess.DEVNULL,
                                     preexec_fn=cap)
                code, rss = "timeout", 0
                while True:
                    pid, status, usage = os.wait4(p.pid, os.WNOHANG)
                    if pid:
                        code = str(os.waitstatus_to_exitcode(status))
                        rss = usage.ru_maxrss >> 10
                        break
                    if time.monotonic() - start > timeout:
                        p.kill()
                        _, _, usage = os.wait4(p.pid, 0)
                        rss = usage.ru_maxrss >> 10
                        break
                    time.sleep(0.01)
                p.returncode = code  # reaped by wait4: Popen must not wait for it again
            elapsed = time.monotonic() - start
            size = os.path.getsize(out) >> 10
            text = open(out, "rb").read()
            leaked = b"root:" in text or b"SECRET_FIELD" in text or b"the secret text" in text
            print(f"{name[:48]:48} {command:9} {code:>7} {elapsed:7.2f} {rss:>12} {size:>8}"
                  + ("  LEAKED outside text" if leaked else ""), flush=True)
    shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
