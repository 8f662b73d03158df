// Which frame is to blame, and the report's title. Machinery that every
// report passes through (printing, fault handling, sanitizer runtimes,
// lockdep, allocators' debug hooks, string helpers) is never guilty.
#include <algorithm>
#include <cctype>
#include <string_view>

#include "kaddr/oops_blame.h"

namespace kaddr {

namespace {

// Function names (patterns as matches() reads them: "=whole", "^prefix",
// "suffix$", "~words") that are never the culprit: printing the report,
// trap and fault handling, sanitizer runtimes, lockdep, locking
// primitives, string/copy helpers, allocator internals, generic device and
// workqueue teardown that merely calls into the guilty code. Families
// spelled inside other names (_raw_spin_lock_irqsave, __mutex_lock_common,
// asm_exc_page_fault) are "~words": whole words of the name, never a
// substring (sget_userns is no get_user, debug_objects_mem_init no
// debug_object).
constexpr const char* kMachinery[] = {
    "~dump_stack", "=show_stack", "~show_regs", "^dump_backtrace", "=unwind_backtrace", "^show_trace", "~printk", "~vprintk",
    "=print_address_description", "=print_report", "~end_report", "~panic", "^__warn", "^warn_slowpath", "^warn_alloc",
    "=report_bug", "=handle_bug", "=fixup_bug", "=bug_handler", "~do_error", "~invalid_op", "_trap$", "^do_trap", "~exc_page_fault",
    "^asm_exc_", "~page_fault_oops", "=no_context", "^kernelmode_fixup_or_oops", "~bad_area", "=do_user_addr_fault",
    "=do_kern_addr_fault", "=__do_page_fault", "~do_page_fault", "^die", "^__die", "^oops_", "=do_mem_abort", "=__do_kernel_fault",
    "=do_translation_fault", "^do_bad_area", "=brk_handler", "=do_debug_exception", "^call_break_hook", "^el1_", "^el1h_", "^el0_",
    "^__sanitizer", "^__asan", "~kasan", "^__msan", "^kmsan", "~kcsan", "^__tsan", "~ubsan", "^kfence",
    "=check_memory_region", "=read_word_at_a_time", "~debug_object", "=timer_is_static_object",
    "=work_is_static_object", "~lockdep", "~perf_trace", "~lock_acquire", "~lock_release", "~lock_class",
    "~reacquire_held_locks", "~spin_lock", "~spin_trylock", "~spin_unlock", "~raw_read_lock", "~raw_write_lock",
    "^raw_read_trylock", "^raw_write_trylock", "~queued_spin", "^queued_read", "^queued_write", "~do_raw_", "~down_read",
    "~down_write", "~up_read", "~up_write", "~mutex_lock", "=mutex_trylock", "~mutex_unlock", "=mutex_remove_waiter",
    "=osq_lock", "^osq_unlock", "^__wake_up", "^refcount_add", "^refcount_sub", "^refcount_inc", "^refcount_dec",
    "^refcount_set", "^refcount_read", "^refcount_warn", "~memcpy", "=memcmp", "~memset", "^memchr", "~memmove",
    "~strcmp", "^strncmp", "^strcpy", "^strlcpy", "^strncpy", "~strscpy", "=strlen", "=strnstr", "=strnlen", "^strchr",
    "~copy_to_user", "~copy_from_user", "~put_user", "~get_user", "~might_fault", "~might_sleep", "~list_add", "~llist_add", "~plist_add",
    "~list_del", "^list_replace", "^list_move", "^list_splice", "~_indirect_thunk_", "~_return_thunk", "=string",
    "=hex_string", "=pointer", "~snprintf", "~scnprintf", "~vsnprintf", "~vscnprintf", "^kasprintf", "^kvasprintf", "~dev_info", "~dev_notice", "~dev_warn", "~netdev_info", "~netdev_notice", "~netdev_warn",
    "^dev_err", "^dev_alert", "^dev_crit", "^dev_emerg", "~del_timer", "~flush_work", "=__cancel_work_timer",
    "=cancel_work_sync", "=try_to_grab_pending", "=flush_workqueue", "=drain_workqueue", "=destroy_workqueue",
    "~insert_work", "~queue_work", "~queue_delayed_work", "~stack_trace_consume_entry", "=arch_stack_walk",
    "~stack_trace_save",
    "=finish_wait", "=kthread_stop", "~kobject_del", "=kobject_delayed_cleanup", "=kobject_put", "=kobject_uevent_env", "=add_uevent_var",
    "=get_device_parent", "~device_add", "=device_del", "~device_unregister", "=device_destroy",
    "=device_for_each_child", "^unregister_netdev", "~sysfs_remove", "=device_remove_file", "=usb_kill_urb",
    "=usb_control_msg", "=usb_submit_urb", "~should_fail", "~should_failslab", "^fail_dump", "~nmi_cpu_backtrace",
    "=nmi_trigger_cpumask_backtrace", "=arch_trigger_cpumask_backtrace", "=__handle_sysrq",
    "=check_preemption_disabled", "=debug_smp_processor_id", "=__this_cpu_preempt_check", "~wait_for_completion",
    "^kfree_skb", "^__kfree_skb", "^consume_skb", "=__stack_chk_fail", "^atomic_", "^atomic64_", "^arch_atomic",
    "~mark_lock", "=hlock_class", "^mark_usage", "=validate_chain", "=check_prev_add", "=check_noncircular",
    "^print_circular", "=print_usage_bug", "=valid_state", "=mark_held_locks", "~lock_is_held", "=lock_downgrade",
    "^debug_check_no_locks", "~debug_check_no_obj_freed",
    // allocation entry points and library helpers
    "^kmem_cache_alloc", "^__kmem_cache_alloc", "^kmalloc", "^__kmalloc", "^kzalloc", "^kcalloc", "^krealloc",
    "^kvmalloc", "^__kvmalloc", "^kmemdup", "^kstrdup", "^slab_alloc", "^___slab_alloc", "^__slab_alloc",
    "^crc", "^xas_", "^rhashtable_", "^strstr", "^stack_trace_", "=copy_page_to_iter", "^__phys_addr",
    "~post_alloc_hook", "=prep_new_page", "=get_page_from_freelist", "^check_new_page", "~might_resched",
    "~check_object_size", "^folio_unlock", "^unlock_page", "~alloc_pages", "^dput", "^fast_dput", "^iput", "^aes_", "^aesti_",
    "^kernel_fpu_begin", "=rust_helper_BUG", "^kfree", "^complete", "~folio_alloc", "=write_comp_data", "^kcov",
    "~alloc_folio", "~apic_timer_interrupt", "~sysvec_", "^__schedule", "^schedule", "^device_release",
    "^devres_release", "=kobject_release", "=kobject_cleanup",
    "^test_and_set_bit", "=test_and_clear_bit", "^set_bit", "^clear_bit", "^__set_bit", "^__clear_bit", "^crc16",
    "^crc32", "~hex_dump", "~_copy_to_iter", "^_copy_from_iter", "~copyout", "^copyin", "^__read_once", "^kvfree",
    // library data structures and checkers that only report their caller's mistake
    "^rb_", "^__rb_", "~klist_", "^ref_tracker", "=assertfail", "=__check_heap_object", "^skb_put", "^skb_push",
    "^skb_pull", "^skb_over_panic", "^skb_under_panic", "^__alloc_pages", "=i2c_del_adapter", "=__unregister_client",
    "^devres_release", "^rollback_registered", "=warn_bogus_irq_restore", "^_atomic_dec_and_lock", "~mutex_",
    "=usb_start_wait_urb", "=usb_bulk_msg", "^usb_interrupt_msg", "=usb_kill_anchored_urbs", "^dummy_urb_enqueue",
    "^usb_hcd_submit_urb", "=hwrng_unregister", "=tty_unregister_device",
};

// Where a dispatcher hands control to the code that loops in a stall: the
// frame printed just before one of these is the representative one.
constexpr const char* kStallAnchors[] = {
    "~process_one_work", "~process_scheduled_works", "~do_syscall_", "~do_fast_syscall_", "~netif_receive_skb", "~do_softirq", "~call_timer_fn",
    "~_run_timers", "~run_timer_softirq", "~run_ksoftirqd", "~smpboot_thread_fn", "~kthread", "~start_secondary",
    "~cpu_startup_entry", "~ret_from_fork", "~vfs_write", "~vfs_read", "~vfs_iter_read", "~vfs_iter_write",
    "~do_iter_read", "~do_iter_write", "~vfs_ioctl", "~blkdev_driver_ioctl", "~blkdev_ioctl", "^call_read_iter",
    "^call_write_iter", "~do_iter_readv_writev", "^call_mmap", "~mmap_region", "~do_mmap", "~do_dentry_open",
    "~vfs_open", "^sock_sendmsg", "^sock_recvmsg", "^sock_release", "^__sock_release", "~__sys_setsockopt",
    "~kernel_setsockopt", "~sock_common_setsockopt", "~__sys_listen", "~kernel_listen", "~sk_common_release",
    "^sock_mmap", "~__sys_accept", "~kernel_accept", "^sock_do_ioctl", "^sock_ioctl", "^compat_sock_ioctl",
    "^nfnetlink_rcv_msg", "~__do_fault", "~handle_mm_fault", "~do_page_fault", "~__fput", "~task_work_run",
    "~exit_to_usermode", "~invoke_syscall", "~el0_svc", "~rtnetlink_rcv_msg", "~genl_rcv_msg", "~genl_family_rcv_msg",
    "~netlink_dump", "~ksys_ioctl", "~compat_sys_ioctl", "~__hrtimer_run_queues", "~__run_hrtimer", "~tasklet_action",
    "~_compat_ioctl", "^new_sync_read", "^new_sync_write",
};

// Syscalls that dispatch to countless handlers count as anchors themselves.
bool is_dispatching_syscall(const std::string& fn) {
    std::string n = fn;
    if (n.rfind("compat_", 0) == 0) n = n.substr(7);
    for (const char* p : {"SYSC_", "SyS_", "__sys_", "___sys_", "__do_sys_", "__se_sys_", "__x64_sys_", "__ia32_sys_",
                          "__arm64_sys_"})
        if (n.rfind(p, 0) == 0) {
            std::string call = n.substr(std::string(p).size());
            return call == "ioctl" || call == "connect" || call == "socketpair";
        }
    return false;
}

// A pattern is an "=whole" name, a "^prefix", a "suffix$", "~words" (whole
// words inside the name), else a substring (for headlines and the checker
// rows); clone suffixes aside (vsprintf's `string.isra.4` is machinery,
// `encode_string` is not).
// Where a word of a name may start or end: its ends, `_`, a clone suffix's
// dot, a digit (Rust's mangled names count identifier lengths:
// `_RNv..4core9panicking9panic_fmt`).
bool word_edge(std::string_view fn, std::size_t i) {
    return i == 0 || i >= fn.size() || fn[i] == '_' || fn[i] == '.' || std::isdigit(static_cast<unsigned char>(fn[i]));
}

// The words `w` (itself one or more words, `spin_lock`) run inside `fn`.
bool has_words(std::string_view fn, std::string_view w) {
    for (std::size_t i = fn.find(w); i != std::string_view::npos; i = fn.find(w, i + 1)) {
        const bool starts = i == 0 || w.front() == '_' || word_edge(fn, i - 1);
        const bool ends = w.back() == '_' || word_edge(fn, i + w.size());
        if (starts && ends) return true;
    }
    return false;
}

bool matches(std::string_view fn, std::string_view p) {
    if (!p.empty() && p[0] == '~') return has_words(fn, p.substr(1));
    if (!p.empty() && p[0] == '=') return fn.substr(0, fn.find('.')) == p.substr(1);
    if (!p.empty() && p[0] == '^') return fn.substr(0, p.size() - 1) == p.substr(1);
    if (!p.empty() && p.back() == '$') return fn.ends_with(p.substr(0, p.size() - 1));
    return fn.find(p) != std::string_view::npos;
}

template <class Patterns>
bool contains_any(const std::string& fn, const Patterns& patterns) {
    for (std::string_view p : patterns)
        if (matches(fn, p)) return true;
    return false;
}


// Headlines (patterns as for kMachinery) whose guilty function is named on
// a later line of the report.
struct NamedLater {
    std::string_view headline, line;
};
constexpr NamedLater kNamedLater[] = {
    {"^BUG: workqueue leaked lock or atomic", "last function: "},  // the work function that leaked
    // SLUB found a freed object written to: the write came after the last
    // free, which is where the object's lifetime went wrong (the allocation
    // only says what the object is).
    {"): Poison overwritten", "INFO: Freed in "},
};

std::string named_on_later_line(const OopsReport& r) {
    for (const NamedLater& n : kNamedLater) {
        if (!matches(r.headline, n.headline)) continue;
        for (const LogLine& l : r.lines) {
            std::string_view t = trim(l.text);
            if (!t.starts_with(n.line)) continue;
            std::size_t used = 0;
            if (auto ref = parse_symbol_ref(t.substr(n.line.size()), &used)) return ref->name;
        }
    }
    return "";
}

// The function on SPL's PANIC/SPLError line: "file:line:func()".
std::string spl_function(const OopsReport& r) {
    for (const LogLine& l : r.lines) {
        std::string_view t = trim(l.text);
        if (!t.starts_with("PANIC at ") && !(t.starts_with("SPLError: ") && t.ends_with("SPL PANIC"))) continue;
        std::size_t call = t.find("()");
        std::size_t colon = t.rfind(':', call);
        if (call != std::string_view::npos && colon != std::string_view::npos) return std::string(t.substr(colon + 1, call - colon - 1));
    }
    return "";
}

// Extra skips when a report fires inside a generic checker: blame its
// caller. One table, tried in order (the first row that applies wins): a
// row applies by the report's kind, by words of its headline, or by the
// source file of its BUG/WARNING site; its skips are patterns as
// matches() reads them.
enum class SkipWhen { Kind, Headline, BugFile };
struct CheckerSkip {
    SkipWhen when;
    ReportKind kind;        // SkipWhen::Kind
    std::string_view text;  // SkipWhen::Headline, SkipWhen::BugFile: a substring
    std::initializer_list<std::string_view> skips;
};
const CheckerSkip kCheckerSkips[] = {
    {SkipWhen::Kind, ReportKind::MemoryLeak, {},
     {"kmemleak", "kmalloc", "kcalloc", "kzalloc", "vmalloc", "mmap", "kmem", "slab", "alloc", "create_object",
      "idr_get", "list_lru_init", "kasprintf", "kvasprintf", "pcpu_create", "strdup", "strndup", "memdup",
      "kobject_"}},
    {SkipWhen::Headline, {}, "double-free", {"kmem_", "slab_", "kfree", "vunmap", "vfree"}},
    {SkipWhen::Headline, {}, "invalid-free", {"kmem_", "slab_", "kfree", "vunmap", "vfree"}},
    {SkipWhen::Headline, {}, "suspicious RCU usage", {"rcu", "kmem", "slab", "kmalloc", "vmalloc", "kcalloc", "kzalloc"}},
    {SkipWhen::Headline, {}, "non-static key", {"stack", "lock", "IRQ"}},
    {SkipWhen::Headline, {}, "scheduling while atomic", {"schedule", "cond_resched", "wait_for_common", "^__get_free_pages"}},
    {SkipWhen::Kind, ReportKind::SlabDebug, {}, {"slab_err", "object_err", "kmem_cache_destroy", "kmem_cache_close"}},
    // The allocator's own entry points, as whole names and prefixes (a
    // substring "alloc" skipped the caller that asked: radix_tree_node_alloc,
    // bio_alloc, sock_alloc_send_pskb).
    {SkipWhen::Kind, ReportKind::AllocFailure, {},
     {"^__alloc_pages", "^alloc_pages", "^__get_free_pages", "=get_zeroed_page", "^__alloc_frozen_pages", "^alloc_frozen_pages", "^folio_alloc", "^__folio_alloc", "^kmalloc", "^__kmalloc", "^kmem_cache_alloc", "^__kmem_cache_alloc", "^kzalloc", "^kcalloc", "^krealloc", "^kvmalloc", "^__kvmalloc", "^kvzalloc", "^kvcalloc", "^kmemdup", "^kstrdup", "^vmalloc", "^__vmalloc", "^vzalloc", "^slab_alloc", "^__slab_alloc", "^___slab_alloc", "=new_slab", "=allocate_slab", "^alloc_slab_page", "^kmem_alloc", "^__alloc_skb", "^alloc_skb", "^__netdev_alloc_skb", "^__napi_alloc_skb", "^dma_alloc", "^dma_direct_alloc"}},
    {SkipWhen::Headline, {}, "spinlock", {"spin_"}},
    {SkipWhen::Headline, {}, "stack-protector", {"stack_chk"}},
    {SkipWhen::BugFile, {}, "lib/refcount.c", {"refcount", "kobject_"}},
    {SkipWhen::BugFile, {}, "lib/debugobjects.c",
     {"debug_", "rcu", "hrtimer_", "timer_", "work_", "percpu_", "kmem_", "slab_", "kfree", "vunmap", "vfree",
      "__free_", "kobject_"}},
    {SkipWhen::BugFile, {}, "mm/usercopy.c", {"usercopy", "__check"}},
    {SkipWhen::BugFile, {}, "lib/kobject.c", {"kobject_"}},
    {SkipWhen::BugFile, {}, "fs/proc/generic.c", {"proc_"}},
    {SkipWhen::BugFile, {}, "kernel/locking/lockdep.c", {"lock_sock", "release_sock"}},
    {SkipWhen::BugFile, {}, "lib/list_debug.c", {"list_"}},
    {SkipWhen::BugFile, {}, "lib/idr.c", {"ida_", "idr_"}},
    {SkipWhen::BugFile, {}, "kernel/rcu/srcutree.c", {"srcu"}},
    {SkipWhen::BugFile, {}, "mm/",
     {"kmalloc", "kcalloc", "kzalloc", "krealloc", "vmalloc", "vzalloc", "slab", "kmem", "kvmalloc", "kfree",
      "alloc_page", "frozen_pages", "get_free_page", "memdup"}},
};

std::vector<std::string> checker_skips(const OopsReport& r) {
    for (const CheckerSkip& c : kCheckerSkips) {
        const bool applies = c.when == SkipWhen::Kind       ? r.kind == c.kind
                             : c.when == SkipWhen::Headline ? r.headline.find(c.text) != std::string::npos
                                                            : r.bug_file.find(c.text) != std::string::npos;
        if (applies) return {c.skips.begin(), c.skips.end()};
    }
    return {};
}

// Frames the guilty one may be chosen from, in printed order (the pc first):
// reliable kernel frames of the first stack (sanitizers append allocation
// and free stacks); with `reliable` false, the `?` ones instead.
std::vector<std::size_t> eligible_frames(const OopsReport& r, bool reliable = true) {
    std::size_t stop = r.lines.size();
    std::optional<std::size_t> trace;  // the last stack heading
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        const std::string& t = r.lines[i].text;
        // A hung-task report goes on with the locks and CPUs of the whole
        // system; only the blocked task's own stack is about it.
        const bool system_dump = r.kind == ReportKind::HungTask && (t.find("Showing all locks held") != std::string::npos ||
                                                           t.find("NMI backtrace for cpu") != std::string::npos);
        // The panic a report ends in prints its own stack (panic, the
        // watchdog...); once the report's call trace was printed, that stack
        // is not the story. (A 4.x WARNING prints its trace after the panic.)
        if (t.find("Call Trace:") != std::string::npos || t.find("Call trace:") != std::string::npos) trace = i;
        const bool panic_after_trace = r.kind != ReportKind::Panic && trace && t.starts_with("Kernel panic - not syncing") &&
                                       std::any_of(r.frames.begin(), r.frames.end(), [&](const OopsFrame& f) {
                                           return f.line > *trace && f.line < i && f.kind == FrameKind::Return;
                                       });
        if (t.find("Allocated by task") != std::string::npos || t.find("Freed by task") != std::string::npos ||
            t.find("Uninit was created") != std::string::npos || system_dump || panic_after_trace) {
            stop = i;
            break;
        }
    }
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < r.frames.size(); ++i) {
        const OopsFrame& f = r.frames[i];
        if (f.user || !f.symbol || f.reliable != reliable || f.kind == FrameKind::Link || f.lock_history ||
            f.line >= stop)
            continue;
        out.push_back(i);
    }
    // The pc takes part first, also when old x86 and i386 restate it only
    // after the trace ("RIP  [<..>] f", "EIP: [<..>] f SS:ESP"). (A RIP line
    // after an IRQ stack is the interrupted task's, and stays in place.)
    auto pc = std::find_if(out.begin(), out.end(), [&](std::size_t i) { return r.frames[i].restated_pc; });
    if (pc != out.end() && std::none_of(out.begin(), pc, [&](std::size_t i) { return r.frames[i].kind == FrameKind::Pc; }))
        std::rotate(out.begin(), pc, pc + 1);
    return out;
}

std::optional<std::size_t> first_not_skipped(const OopsReport& r, const std::vector<std::size_t>& frames,
                                             const std::vector<std::string>& extra) {
    for (std::size_t i : frames) {
        const std::string fn = frame_function(r.frames[i]);
        if (!is_reporting_machinery(fn) && !contains_any(fn, extra)) return i;
    }
    return std::nullopt;
}

// Lockdep names the contended site on an "at: FUNC+off/size" line after its
// own marker; that frame is added to the report for blame.
std::optional<std::size_t> lock_site(OopsReport& r) {
    static const char* kMarkers[] = {"is trying to acquire", "just changed the state of lock", "takes:",
                                     "is trying to release lock", "held lock freed", "is freeing memory",
                                     "still has locks held", "with locks still held"};
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
        bool marked = false;
        for (const char* m : kMarkers) marked = marked || r.lines[i].text.find(m) != std::string::npos;
        if (!marked) continue;
        for (std::size_t j = i + 1; j < r.lines.size() && j <= i + 15; ++j) {
            const std::string& t = r.lines[j].text;
            auto at = t.find("at: ");
            std::string rest = at == std::string::npos ? std::string(trim(t)) : t.substr(at + 4);
            // `[<ffffffff81329372>] f+0x2a2/0x380`, also with the `[` lost on the way
            while (rest.rfind("[<", 0) == 0 || (rest.rfind("<", 0) == 0 && rest.find(">]") != std::string::npos))
                rest = std::string(trim(rest.substr(rest.find(">]") + 2)));
            std::size_t used = 0;
            auto ref = parse_symbol_ref(rest, &used);
            if (!ref || rest.substr(0, used).find('+') == std::string::npos) continue;
            if (is_reporting_machinery(ref->name)) continue;  // the next site (the lock holder) is the story
            OopsFrame f;
            f.line = j;
            f.symbol = ref;
            f.kind = FrameKind::Return;
            f.outside_stack = true;
            for (std::size_t k = 0; k < r.frames.size(); ++k)
                if (r.frames[k].line == j) return k;
            r.frames.push_back(f);
            return r.frames.size() - 1;
        }
    }
    return std::nullopt;
}

// A BUG()/WARN() in shared code (library, memory management, headers)
// reports its caller's misuse.
bool is_generic_site(const std::string& f) {
    for (const char* p : {"lib/", "include/", "./include/", "kernel/locking/",
                          "kernel/rcu/", "rust/helpers/", "kernel/time/", "kernel/sched/",
                          "kernel/softirq.c", "kernel/kthread.c", "fs/inode.c", "fs/dcache.c", "fs/buffer.c",
                          "drivers/base/"})
        if (f.rfind(p, 0) == 0) return true;
    return false;
}

std::string strip_syscall_prefix(std::string fn) {
    for (const char* p : {"__x64_", "__ia32_", "__arm64_", "SYSC_", "SyS_", "compat_SYSC_", "compat_SyS_", "__se_",
                          "__do_"})
        if (fn.starts_with(p)) fn = fn.substr(std::string(p).size());
    return fn;
}

}  // namespace

bool is_reporting_machinery(const std::string& fn) {
    return contains_any(fn, kMachinery);
}

std::string frame_function(const OopsFrame& f) { return f.symbol ? f.symbol->name : std::string(); }

Blame blame(OopsReport& r) {
    Blame b;
    auto frames = eligible_frames(r);
    const ReportKind k = r.kind;
    if (k == ReportKind::Lockdep) {
        if (auto i = lock_site(r)) {
            b.frame = i;
            b.function = frame_function(r.frames[*i]);
            return b;
        }
    }
    if (k == ReportKind::SoftLockup || k == ReportKind::RcuStall ||
        (k == ReportKind::Panic && r.headline.find("corrupted stack end") != std::string::npos)) {
        // A CPU spinning until others answer an IPI is one kind of stall,
        // wherever it was called from.
        for (std::size_t i : frames)
            if (frame_function(r.frames[i]).starts_with("smp_call_function")) {
                b.frame = i;
                b.function = "smp_call_function";
                return b;
            }
        // Start after the timer interrupt that caught the stall, if printed.
        std::size_t from = 0;
        for (std::size_t n = 0; n < frames.size(); ++n)
            if (frame_function(r.frames[frames[n]]).find("apic_timer_interrupt") != std::string::npos) {
                from = n + 1;  // the first: the task stack below </IRQ> shows the entry again
                break;
            }
        // An exception taken inside the looping code (a page fault under a
        // syscall) prints its own pc: the stack to read starts at the last one.
        for (std::size_t n = from + 1; n < frames.size(); ++n)
            if (r.frames[frames[n]].kind == FrameKind::Pc &&
                frame_function(r.frames[frames[n - 1]]).find("page_fault") != std::string::npos)
                from = n;
        // Machinery frames are dropped first; the representative frame is the
        // one printed just before the first dispatcher.
        auto anchor = [&](const std::string& fn) {
            return contains_any(fn, kStallAnchors) || is_dispatching_syscall(fn);
        };
        std::vector<std::size_t> kept;
        for (std::size_t n = from; n < frames.size(); ++n) {
            const std::string fn = frame_function(r.frames[frames[n]]);
            if (anchor(fn) || !is_reporting_machinery(fn)) kept.push_back(frames[n]);
        }
        for (std::size_t n = 1; n < kept.size(); ++n)
            if (anchor(frame_function(r.frames[kept[n]]))) {
                b.frame = kept[n - 1];
                b.function = strip_syscall_prefix(frame_function(r.frames[kept[n - 1]]));
                return b;
            }
        if (k != ReportKind::Panic) b.fell_back = true;  // no dispatcher printed: the stack is incomplete
    }
    if (k == ReportKind::HungTask) {
        for (std::size_t i : frames) {
            const std::string fn = frame_function(r.frames[i]);
            for (const char* a : {"rtnl_lock", "synchronize_rcu", "synchronize_srcu", "synchronize_net",
                                  "synchronize_sched"})
                if (fn.starts_with(a)) {
                    b.frame = i;
                    b.function = std::string_view(a).starts_with("synchronize_") ? "synchronize_rcu" : a;
                    return b;
                }
        }
        static const std::vector<std::string> kWaiting = {"sched", "_lock", "_slowlock", "down", "completion",
                                                          "kthread", "wait", "synchronize", "context_switch",
                                                          "__switch_to", "cancel_delayed_work", "rcu_barrier"};
        b.frame = first_not_skipped(r, frames, kWaiting);
        if (!b.frame) b.fell_back = true;  // nothing but scheduling and waiting
    }
    std::vector<std::string> extra = checker_skips(r);
    if (k == ReportKind::RcuStall || k == ReportKind::SoftLockup) extra.insert(extra.end(), {"sched", "rcu"});  // no anchor found above
    // A check in a header was inlined into the pc's function: that function
    // is the caller to blame, not a checker to skip. BUG() in shared code
    // names the failing function itself, except in lib/ helpers.
    const bool header = r.bug_file.size() > 2 && r.bug_file.compare(r.bug_file.size() - 2, 2, ".h") == 0;
    const bool skip_site = !header && ((k == ReportKind::Warning && is_generic_site(r.bug_file)) ||
                                       (k == ReportKind::Bug && r.bug_file.rfind("lib/", 0) == 0));
    if (skip_site)
        for (std::size_t i : frames)
            if (r.frames[i].kind == FrameKind::Pc) {
                extra.push_back("^" + frame_function(r.frames[i]));
                break;
            }
    // Sanitizers name the accessing function on the headline; the
    // stack-protector panic names the function whose canary died.
    if (k == ReportKind::SlabDebug && r.headline.find(" in ") != std::string::npos) {
        if (auto ref = parse_symbol_ref(r.headline.substr(r.headline.find(" in ") + 4))) b.function = ref->name;
        return b;
    }
    // Reports that name the guilty function on a line of their own.
    if (std::string fn = named_on_later_line(r); !fn.empty()) {
        b.function = fn;
        for (std::size_t i : frames)
            if (frame_function(r.frames[i]) == fn) b.frame = i;
        return b;
    }
    // OpenZFS's SPL names the failing function: "PANIC at zfs_vfsops.c:400:zfs_space_delta_cb()",
    // "SPLError: 9457:0:(zfs_znode.c:340:zfs_inode_set_ops()) SPL PANIC".
    if (k == ReportKind::SplPanic)
        if (std::string fn = spl_function(r); !fn.empty()) {
            b.function = fn;
            for (std::size_t i : frames)
                if (frame_function(r.frames[i]) == fn) b.frame = i;
            return b;
        }
    const bool names_function = k == ReportKind::Kasan || k == ReportKind::Kmsan || k == ReportKind::Kfence ||
                                r.headline.find("stack-protector: Kernel stack is corrupted in: ") != std::string::npos;
    if (!b.frame && names_function) {
        auto in = r.headline.find(k == ReportKind::Panic ? " in: " : " in ");
        if (in != std::string::npos) {
            std::string rest = r.headline.substr(in + (k == ReportKind::Panic ? 5 : 4));
            // The function as a frame prints it (`f+0x7c/0x3970`, or decoded:
            // `f (mm/slub.c:3567)`); a panic's `in: f` is a bare name.
            std::optional<SymbolRef> ref;
            if (k == ReportKind::Panic) ref = parse_symbol_ref(rest);
            else if (auto named = parse_frame_text(rest); named && !named->address) ref = named->symbol;
            const bool bare_address = ref && parse_address_text(ref->name).has_value();
            if (ref && !bare_address && !is_reporting_machinery(ref->name) && !contains_any(ref->name, extra)) {
                b.function = ref->name;
                for (std::size_t i : frames)
                    if (frame_function(r.frames[i]) == ref->name) b.frame = i;
                return b;
            }
        }
    }
    // An allocation failure's stack starts in the allocator; the caller to
    // blame comes after the allocator's last frame (an inexact unwind, 2.6
    // x86_64 without frame pointers, prints stale return addresses between
    // the allocator's own frames: `__alloc_pages bio_alloc __slab_alloc`).
    if (!b.frame && k == ReportKind::AllocFailure) {
        std::size_t last = frames.size();
        for (std::size_t n = 0; n < frames.size(); ++n)
            if (contains_any(frame_function(r.frames[frames[n]]), extra)) last = n;
        if (last < frames.size())
            b.frame = first_not_skipped(r, std::vector<std::size_t>(frames.begin() + static_cast<std::ptrdiff_t>(last) + 1, frames.end()), extra);
    }
    if (!b.frame) b.frame = first_not_skipped(r, frames, extra);
    // A stack of `?` frames only (no frame pointers, a damaged stack) still
    // names a frame, with less confidence.
    if (!b.frame && frames.empty()) {
        b.frame = first_not_skipped(r, eligible_frames(r, false), extra);
        b.low_confidence = b.frame.has_value();
    }
    // Nothing printed but the pc's register and the link register: the
    // caller the link register names.
    if (!b.frame)
        for (std::size_t i = 0; i < r.frames.size() && !b.frame; ++i)
            if (r.frames[i].kind == FrameKind::Link && !is_reporting_machinery(frame_function(r.frames[i]))) {
                b.frame = i;
                b.low_confidence = true;
            }
    // No frame the rule accepts: the function the report says it stopped
    // in (the pc), with the report marked incomplete. A stack of nothing
    // but the report's own printing (a panic cut after dump_stack) names
    // nothing.
    if (!b.frame && !frames.empty()) {
        if (r.frames[frames.front()].kind == FrameKind::Pc) b.frame = frames.front();
        b.fell_back = true;
    }
    if (b.frame) b.function = frame_function(r.frames[*b.frame]);
    return b;
}

std::string report_title(const OopsReport& r, const std::string& fn) {
    const char* title = kind_info(r.kind).title;
    std::string base = title ? title : "";
    if (base.empty()) {
        // Sanitizers and lockdep say what they found on the headline:
        // "BUG: KASAN: use-after-free in f+0x..": keep "KASAN: use-after-free".
        std::string h = r.headline;
        if (h.rfind("BUG: ", 0) == 0 && (r.kind == ReportKind::Kasan || r.kind == ReportKind::Kcsan || r.kind == ReportKind::Kmsan || r.kind == ReportKind::Kfence))
            h = h.substr(5);
        if (h.rfind("WARNING: ", 0) == 0 && r.kind == ReportKind::Lockdep) h = h.substr(9);
        // Old lockdep brackets its headline: "[ BUG: bad unlock balance detected! ]".
        if (h.rfind("[ ", 0) == 0 && h.size() > 4 && h.compare(h.size() - 2, 2, " ]") == 0) h = h.substr(2, h.size() - 4);
        for (const char* cut : {" in ", " at ", ",", " ("})
            if (auto p = h.find(cut); p != std::string::npos) h = h.substr(0, p);
        base = h;
    }
    if (r.kind == ReportKind::Bug && r.headline.rfind("BUG: ", 0) == 0) {
        std::string h = r.headline;
        for (const char* cut : {" in ", ":", ","})
            if (auto p = h.find(cut, 5); p != std::string::npos) h = h.substr(0, p);
        base = h;
    }
    return fn.empty() ? base : base + " in " + fn;
}

}  // namespace kaddr
