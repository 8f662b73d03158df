# The drgn side of bench/vmcore.py: what `kaddr oops --vmcore` answers —
# the kernel log, every module with its section addresses, and the crashed
# thread's stack with source lines — printed by drgn from the same dump.
# Run as: drgn -q -c DUMP -s VMLINUX -s MOD.ko ... vmcore_drgn.py
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.printk import get_dmesg

out = []
out.append(get_dmesg(prog).decode(errors="replace"))
for mod in list_for_each_entry("struct module", prog["modules"].address_of_(), "list"):
    out.append("module %s base=%#x size=%#x" % (mod.name.string_().decode(), mod.core_layout.base.value_(),
                                                mod.core_layout.size.value_()))
    attrs = mod.sect_attrs
    for i in range(attrs.nsections.value_()):
        a = attrs.attrs[i]
        out.append("  %s %#x" % (a.battr.attr.name.string_().decode(), a.address.value_()))
thread = prog.crashed_thread()
for frame in thread.stack_trace():
    try:
        src = "%s:%d:%d" % frame.source()
    except LookupError:
        src = "?"
    out.append("%s pc=%#x %s" % (frame.name or "?", frame.pc, src))
print("\n".join(out))
