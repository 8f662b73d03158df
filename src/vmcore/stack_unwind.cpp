// crashed_thread(): libdwfl unwinding over a dump. One Dwfl holds vmlinux
// at its runtime (KASLR) address, which libdwfl treats as a relocatable
// ET_EXEC, and every module with a .ko at its exact section addresses; the
// thread callbacks hand it the NT_PRSTATUS registers and the dump's memory.
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>

#include "kaddr/error.h"
#include "kaddr/kernel_types.h"
#include "kaddr/lexemes.h"
#include "kaddr/snapshot.h"
#include "kaddr/vmcore_stack.h"
#include "orc_unwind.h"

namespace kaddr {

namespace {

// x86_64 DWARF register numbers (psABI) of the NT_PRSTATUS registers.
const char* const kDwarfRegs[] = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
                                  "r10", "r11", "r12", "r13", "r14", "r15", "rip"};
constexpr unsigned kRbp = 6, kRsp = 7;

// Kernel entry points whose frame holds the interrupted user state: the
// struct pt_regs starts at the entry frame's stack pointer (the entry code
// passes %rsp as the pt_regs argument). Offsets in x86_64 struct pt_regs.
struct EntryPoint {
    const char* symbol;
    std::uint64_t ip_offset, sp_offset;
};
constexpr EntryPoint kEntryPoints[] = {
    {"entry_SYSCALL_64", 16 * 8, 19 * 8},
    {"entry_SYSCALL_64_after_hwframe", 16 * 8, 19 * 8},
};

struct Image {
    std::shared_ptr<const ElfFile> file;
    const std::vector<PlacedSection>* sections = nullptr;  // modules only
    std::vector<char> copy;                                // a compressed .ko, decompressed for libdwfl
};

// libdwfl's view: every CPU with a note is a thread (tid = CPU + 1, as
// idle CPUs run pid 0); frames go to the vector of the thread unwound.
struct Unwind {
    const Vmcore* dump;
    const std::vector<CpuState>* cpus;
    std::size_t next = 0;
    std::vector<StackFrame>* frames = nullptr;
};
int find_elf(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, char** file_name, Elf** elfp) {
    auto* img = static_cast<Image*>(*userdata);
    *file_name = strdup(img->file->path().c_str());
    if (!img->file->decompressed().empty()) {
        img->copy = img->file->decompressed();
        *elfp = elf_memory(img->copy.data(), img->copy.size());
        return -1;
    }
    return ::open(img->file->path().c_str(), O_RDONLY | O_CLOEXEC);
}

int section_address(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, const char*, GElf_Word shndx,
                    const GElf_Shdr*, Dwarf_Addr* addr) {
    *addr = static_cast<Dwarf_Addr>(-1);  // not loaded
    if (const auto* secs = static_cast<Image*>(*userdata)->sections)
        for (const auto& s : *secs)
            if (s.elf_index == shndx && s.placement != Placement::Undetermined) *addr = s.addr;
    return DWARF_CB_OK;
}

int no_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word, char**) { return -1; }

pid_t next_thread(Dwfl*, void* arg, void** thread_arg) {
    auto* u = static_cast<Unwind*>(arg);
    if (u->next >= u->cpus->size()) return 0;
    *thread_arg = const_cast<CpuState*>(&(*u->cpus)[u->next]);
    return static_cast<pid_t>(++u->next);
}

bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
    return static_cast<Unwind*>(arg)->dump->read(addr, result, sizeof *result);
}

bool set_initial_registers(Dwfl_Thread* thread, void* arg) {
    const auto* cpu = static_cast<const CpuState*>(arg);
    Dwarf_Word regs[std::size(kDwarfRegs)];
    for (std::size_t i = 0; i < std::size(kDwarfRegs); ++i) {
        auto it = cpu->regs.find(kDwarfRegs[i]);
        if (it == cpu->regs.end()) return false;
        regs[i] = it->second;
    }
    return dwfl_thread_state_registers(thread, 0, std::size(kDwarfRegs), regs);
}

int on_frame(Dwfl_Frame* state, void* arg) {
    auto* u = static_cast<Unwind*>(arg);
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;
    StackFrame f;
    f.pc = pc;
    f.kind = activation ? StackFrameKind::Interrupted : StackFrameKind::Call;
    Dwarf_Word sp = 0, bp = 0;
    if (dwfl_frame_reg(state, kRsp, &sp) == 0) f.sp = sp;
    if (dwfl_frame_reg(state, kRbp, &bp) == 0) f.bp = bp;
    u->frames->push_back(f);
    return u->frames->size() < 256 ? DWARF_CB_OK : DWARF_CB_ABORT;
}

const CpuState& crashing_cpu(const Snapshot& snap, const std::vector<CpuState>& cpus, std::string& how) {
    const Vmcore& dump = *snap.vmcore->dump;
    for (const Symbol* s : snap.core.symbols.by_name("panic_cpu")) {
        std::int32_t cpu = -1;
        if (dump.read(s->addr, &cpu, sizeof cpu) && cpu >= 0)
            for (const auto& c : cpus)
                if (c.cpu == static_cast<unsigned>(cpu)) {
                    how = "panic_cpu = " + std::to_string(cpu);
                    return c;
                }
    }
    const CpuState* only = nullptr;
    for (const auto& c : cpus)
        if (c.pid) {
            if (only) throw Error(dump.path(), "cannot tell the crashing CPU: panic_cpu is unset and several CPUs ran tasks");
            only = &c;
        }
    if (!only) throw Error(dump.path(), "no CPU note names a running task", "the dump has no NT_PRSTATUS of the crash");
    how = "the only CPU running a task (panic_cpu unset)";
    return *only;
}

}  // namespace

namespace {

// The interrupted user frame from the pt_regs an entry point saved, when
// the CFI ended there.
void add_user_frame(const Vmcore& dump, const Resolver& resolver, CpuStack& t) {
    if (t.frames.empty()) return;
    const StackFrame& last = t.frames.back();
    const Resolution r = resolver.resolve_address(last.pc, AddressKind::Return);
    for (const auto& e : kEntryPoints)
        if (r.symbol == e.symbol && last.sp) {
            StackFrame user;
            user.kind = StackFrameKind::UserEntry;
            if (dump.read(last.sp + e.ip_offset, &user.pc, sizeof user.pc) &&
                dump.read(last.sp + e.sp_offset, &user.sp, sizeof user.sp)) {
                t.frames.push_back(user);
                t.stopped = "user space (pt_regs saved by " + std::string(e.symbol) + ")";
            }
            return;
        }
}

// Where the CFI ends before the stack does (a module kaddr has no file
// for, entry code without CFI), the kernel's own ORC tables go on: the
// vmlinux's from its file, each module's from the dump, read on first use.
class OrcUnwinder {
public:
    explicit OrcUnwinder(const Snapshot& snap) : snap_(snap) {
        if (snap.core.vmlinux) format_ = orc_format(*snap.core.vmlinux, why_);
    }

    void continue_stack(CpuStack& t, const CpuState& cpu) {
        if (t.frames.empty() || t.frames.back().kind == StackFrameKind::UserEntry) return;
        if (!format_) {
            if (!t.stopped.empty()) t.stopped += "; no ORC to go on with (" + why_ + ")";
            return;
        }
        const StackFrame& last = t.frames.back();
        OrcState s;
        s.ip = last.pc;
        s.sp = last.sp;
        s.bp = last.bp;
        s.signal = last.kind == StackFrameKind::Interrupted;
        if (t.frames.size() == 1) s.regs = cpu.regs;  // the CPU note: the first frame's registers
        const std::string cfi_stopped = t.stopped;
        const Vmcore& dump = *snap_.vmcore->dump;
        const ReadWord read = [&](std::uint64_t a, std::uint64_t& v) { return dump.read(a, &v, sizeof v); };
        std::size_t added = 0;
        std::string stopped;
        while (t.frames.size() < 256) {
            load_tables_for(s.signal ? s.ip : s.ip - 1);
            auto n = orc_step(s, tables_, read, stopped);
            if (!n) break;
            if (n->ip == s.ip && n->sp == s.sp) {  // no progress: a damaged stack would loop
                stopped = "ORC: no progress at " + hex(n->ip);
                break;
            }
            StackFrame f;
            f.pc = n->ip;
            f.sp = n->sp;
            f.bp = n->bp;
            f.kind = n->user ? StackFrameKind::UserEntry : n->signal ? StackFrameKind::Interrupted : StackFrameKind::Call;
            t.frames.push_back(f);
            ++added;
            s = std::move(*n);
            if (s.user) {
                stopped = "user space (pt_regs saved at the kernel entry)";
                break;
            }
        }
        if (!added) return;
        t.stopped = stopped;
        t.orc_from = t.frames.size() - added;
        t.how_unwound = "CFI, then the kernel's ORC tables from frame #" + std::to_string(t.orc_from) +
                        (cfi_stopped.empty() ? std::string() : " (CFI: " + cfi_stopped + ")");
    }

private:
    // The table that covers `ip`: vmlinux's, or the module's that holds it.
    void load_tables_for(std::uint64_t ip) {
        if (!core_loaded_) {
            core_loaded_ = true;
            std::string why;
            OrcTable core = vmlinux_orc(*snap_.core.vmlinux, snap_.core.kaslr_offset.value_or(0), *format_, why);
            if (!core.ips.empty()) tables_.push_back(std::move(core));
        }
        const Module* m = snap_.module_at(ip);
        if (!m || !loaded_.insert(m->name).second || !snap_.vmcore) return;
        for (const auto& vm : snap_.vmcore->modules)
            if (vm.name == m->name) {
                std::string why;
                OrcTable t = module_orc(*snap_.vmcore->dump, vm.name, vm.orc_unwind_ip, vm.orc_unwind, vm.num_orcs, *format_, why);
                if (!t.ips.empty()) tables_.push_back(std::move(t));
            }
    }

    const Snapshot& snap_;
    std::optional<OrcFormat> format_;
    std::string why_;
    bool core_loaded_ = false;
    std::set<std::string> loaded_;
    std::vector<OrcTable> tables_;
};

// Each CPU's current task: the per-CPU `pcpu_hot.current_task` (6.2+) or
// `current_task`, its task_struct's comm; offsets from the vmlinux DWARF.
class CurrentTasks {
public:
    explicit CurrentTasks(const Snapshot& snap) : snap_(snap) {
        const ElfFile& v = *snap.core.vmlinux;
        for (const auto& s : v.symbols()) {
            if (s.name == "__per_cpu_offset") per_cpu_offset_ = s.value + static_cast<std::uint64_t>(snap.core.kaslr_offset.value_or(0));
            if (s.name == "pcpu_hot" || s.name == "current_task") current_ = {std::string(s.name), s.value};
        }
        try {
            const KernelTypes t(v, {"kernel/sched/core.c"}, {"task_struct", "pcpu_hot"});
            comm_ = t.offset("task_struct.comm");
            comm_len_ = t.array_length("task_struct.comm").value_or(16);
            if (current_.first == "pcpu_hot") current_.second += t.offset("pcpu_hot.current_task");
        } catch (const Error& e) {
            why_ = e.what();
        }
    }

    void describe(CpuStack& t) const {
        const Vmcore& dump = *snap_.vmcore->dump;
        if (!why_.empty() || !per_cpu_offset_ || current_.first.empty()) {
            t.task_unread = why_.empty() ? "the vmlinux has no __per_cpu_offset or current task symbol" : why_;
            return;
        }
        std::uint64_t base = 0;
        if (!dump.read(per_cpu_offset_ + 8 * t.cpu, &base, sizeof base) ||
            !dump.read(base + current_.second, &t.task, sizeof t.task) || !t.task) {
            t.task_unread = "CPU " + std::to_string(t.cpu) + "'s current task pointer is not in the dump";
            return;
        }
        std::string comm(comm_len_, '\0');
        if (!dump.read(t.task + comm_, comm.data(), comm.size())) {
            t.task_unread = "its task_struct (" + hex(t.task) +
                            ") is not in the dump (the dump level left out that slab page): the task's name is unknown";
            return;
        }
        comm.resize(strnlen(comm.c_str(), comm.size()));
        t.comm = comm;
    }

private:
    const Snapshot& snap_;
    std::uint64_t per_cpu_offset_ = 0;
    std::pair<std::string, std::uint64_t> current_;  // the per-CPU variable and the task pointer's offset in it
    std::uint64_t comm_ = 0, comm_len_ = 16;
    std::string why_;
};

}  // namespace

std::vector<CpuStack> cpu_stacks(const Resolver& resolver) {
    const Snapshot& snap = resolver.snapshot();
    if (!snap.vmcore) throw Error("--vmcore", "the stack needs a dump", "give --vmcore DUMP");
    const Vmcore& dump = *snap.vmcore->dump;
    if (!snap.core.vmlinux)
        throw Error(dump.path(), "unwinding needs the vmlinux with its CFI", "give --vmlinux or --debug-root");
    if (dump.arch() != "x86_64") throw Error(dump.path(), "stack unwinding is implemented for x86_64 dumps only");
    const auto cpus = dump.cpus();
    if (cpus.empty()) throw Error(dump.path(), "no CPU notes (NT_PRSTATUS) in the dump", "the dump has no registers to unwind from");
    std::string how;
    const CpuState& crashing = crashing_cpu(snap, cpus, how);

    Dwfl_Callbacks cb{};
    cb.find_elf = find_elf;
    cb.find_debuginfo = no_debuginfo;
    cb.section_address = section_address;
    Dwfl* dwfl = dwfl_begin(&cb);
    if (!dwfl) throw Error(dump.path(), std::string("libdwfl: ") + dwfl_errmsg(-1));
    std::vector<std::unique_ptr<Image>> images;
    auto report = [&](const char* name, Dwarf_Addr lo, Dwarf_Addr hi, std::unique_ptr<Image> img) {
        Dwfl_Module* mod = dwfl_report_module(dwfl, name, lo, hi);
        if (!mod) return;
        void** slot = nullptr;
        dwfl_module_info(mod, &slot, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
        *slot = img.get();
        images.push_back(std::move(img));
    };
    dwfl_report_begin(dwfl);
    auto core = std::make_unique<Image>();
    core->file = snap.core.vmlinux;
    report("vmlinux", snap.core.start, snap.core.end, std::move(core));
    for (const auto& m : snap.modules) {
        if (!m->ko || m->sections.empty()) continue;
        Dwarf_Addr lo = ~Dwarf_Addr{0}, hi = 0;
        for (const auto& s : m->sections)
            if (s.placement != Placement::Undetermined && s.elf_index && !s.init) {
                lo = std::min<Dwarf_Addr>(lo, s.addr);
                hi = std::max<Dwarf_Addr>(hi, s.addr + std::max<std::uint64_t>(s.size, 1));
            }
        if (lo >= hi) continue;
        auto img = std::make_unique<Image>();
        img->file = m->ko;
        img->sections = &m->sections;
        report(m->name.c_str(), lo, hi, std::move(img));
    }
    dwfl_report_end(dwfl, nullptr, nullptr);

    Unwind u{&dump, &cpus};
    static const Dwfl_Thread_Callbacks thread_cb = {next_thread, nullptr, memory_read, set_initial_registers, nullptr, nullptr};
    if (!dwfl_attach_state(dwfl, snap.core.vmlinux->elf(), 1, &thread_cb, &u)) {
        std::string e = dwfl_errmsg(-1);
        dwfl_end(dwfl);
        throw Error(dump.path(), "libdwfl cannot unwind: " + e);
    }
    std::vector<CpuStack> out;
    for (std::size_t i = 0; i < cpus.size(); ++i) {
        CpuStack t;
        t.cpu = cpus[i].cpu;
        t.pid = cpus[i].pid;
        t.crashed = &cpus[i] == &crashing;
        if (t.crashed) t.how_cpu = how;
        u.frames = &t.frames;
        if (dwfl_getthread_frames(dwfl, static_cast<pid_t>(i + 1), on_frame, &u) != 0) t.stopped = dwfl_errmsg(-1);
        out.push_back(std::move(t));
    }
    dwfl_end(dwfl);
    OrcUnwinder orc(snap);
    const CurrentTasks tasks(snap);
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto& t = out[i];
        tasks.describe(t);
        add_user_frame(dump, resolver, t);
        orc.continue_stack(t, cpus[i]);
        for (auto& f : t.frames)
            if (f.kind != StackFrameKind::UserEntry)
                f.where = resolver.resolve_address(
                    f.pc, f.kind == StackFrameKind::Interrupted ? AddressKind::Precise : AddressKind::Return);
    }
    return out;
}

CpuStack crashed_thread(const Resolver& resolver) {
    for (auto& t : cpu_stacks(resolver))
        if (t.crashed) return std::move(t);
    throw Error("--vmcore", "internal: no crashing CPU");  // crashing_cpu() picked one of them
}

}  // namespace kaddr
