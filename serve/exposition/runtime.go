package exposition

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// goMemStats are client_golang's go_memstats_* series: name, help (as that
// client words it, so dashboards' tooltips stay) and the field of
// runtime.MemStats it equals. Its help texts name the runtime/metrics it
// sums; MemStats holds the same sums.
var goMemStats = []struct {
	name, help, typ string
	value           func(*runtime.MemStats) float64
}{
	{"go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.Alloc) }},
	{"go_memstats_alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", "counter", func(m *runtime.MemStats) float64 { return float64(m.TotalAlloc) }},
	{"go_memstats_buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.BuckHashSys) }},
	{"go_memstats_frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", "counter", func(m *runtime.MemStats) float64 { return float64(m.Frees) }},
	{"go_memstats_gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.GCSys) }},
	{"go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.HeapAlloc) }},
	{"go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.HeapIdle) }},
	{"go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", "gauge", func(m *runtime.MemStats) float64 { return float64(m.HeapInuse) }},
	{"go_memstats_heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.HeapObjects) }},
	{"go_memstats_heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.HeapReleased) }},
	{"go_memstats_heap_sys_bytes", "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.HeapSys) }},
	{"go_memstats_mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", "counter", func(m *runtime.MemStats) float64 { return float64(m.Mallocs) }},
	{"go_memstats_mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.MCacheInuse) }},
	{"go_memstats_mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.MCacheSys) }},
	{"go_memstats_mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.MSpanInuse) }},
	{"go_memstats_mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.MSpanSys) }},
	{"go_memstats_next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.NextGC) }},
	{"go_memstats_other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.OtherSys) }},
	{"go_memstats_stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.StackInuse) }},
	{"go_memstats_stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.StackSys) }},
	{"go_memstats_sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", "gauge", func(m *runtime.MemStats) float64 { return float64(m.Sys) }},
}

// goSettings are the runtime settings client_golang reads from
// runtime/metrics by default, named as it names them.
var goSettings = []struct{ name, help, sample string }{
	{"go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent.", "/gc/gogc:percent"},
	{"go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.", "/gc/gomemlimit:bytes"},
	{"go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads.", "/sched/gomaxprocs:threads"},
}

// RegisterGo adds the Go runtime's series that client_golang's default Go
// collector exposes: goroutines, threads, GC pauses, memory statistics, the
// GC and scheduler settings and the Go version.
func (r *Registry) RegisterGo() {
	r.register(func(add func(family)) {
		gauge := func(name, help string, v float64, labels ...string) {
			add(family{name: name, help: help, typ: "gauge", series: []series{{labels: labels, value: v}}})
		}
		gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
		threads, _ := runtime.ThreadCreateProfile(nil)
		gauge("go_threads", "Number of OS threads created.", float64(threads))
		gauge("go_info", "Information about the Go environment.", 1, "version", runtime.Version())

		var gc debug.GCStats
		gc.PauseQuantiles = make([]time.Duration, 5)
		debug.ReadGCStats(&gc)
		pauses := series{sum: gc.PauseTotal.Seconds(), count: uint64(gc.NumGC)}
		for i, q := range gc.PauseQuantiles {
			pauses.buckets = append(pauses.buckets, bucket{bound: float64(i) / 4, value: q.Seconds()})
		}
		add(family{name: "go_gc_duration_seconds", help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.",
			typ: "summary", series: []series{pauses}})
		gauge("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", float64(gc.LastGC.UnixNano())/1e9)

		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		for _, m := range goMemStats {
			add(family{name: m.name, help: m.help, typ: m.typ, series: []series{{value: m.value(&ms)}}})
		}

		samples := make([]metrics.Sample, len(goSettings))
		for i, s := range goSettings {
			samples[i].Name = s.sample
		}
		metrics.Read(samples)
		for i, s := range goSettings {
			if samples[i].Value.Kind() == metrics.KindUint64 {
				gauge(s.name, s.help, float64(samples[i].Value.Uint64()))
			}
		}
	})
}

// userHZ is the kernel's clock tick, in which /proc/self/stat counts CPU
// time; it is 100 on every Linux client_golang supports, which assumes it too.
const userHZ = 100

// RegisterProcess adds the series of client_golang's process collector,
// read from /proc at each scrape. Like that collector (without
// ReportErrors), it leaves out what it cannot read, so on a system without
// /proc they are absent.
func (r *Registry) RegisterProcess() {
	r.register(func(add func(family)) {
		value := func(name, typ, help string, v float64) {
			add(family{name: name, help: help, typ: typ, series: []series{{value: v}}})
		}
		if f, ok := statFields(); ok {
			utime, _ := strconv.ParseFloat(f[11], 64)
			stime, _ := strconv.ParseFloat(f[12], 64)
			start, _ := strconv.ParseFloat(f[19], 64)
			vsize, _ := strconv.ParseFloat(f[20], 64)
			rss, _ := strconv.ParseFloat(f[21], 64)
			value("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (utime+stime)/userHZ)
			value("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize)
			value("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss*float64(os.Getpagesize()))
			if boot, ok := bootTime(); ok {
				value("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", boot+start/userHZ)
			}
		}
		if n, ok := openFDs(); ok {
			value("process_open_fds", "gauge", "Number of open file descriptors.", float64(n))
		}
		if files, space, ok := limits(); ok {
			value("process_max_fds", "gauge", "Maximum number of open file descriptors.", files)
			value("process_virtual_memory_max_bytes", "gauge", "Maximum amount of virtual memory available in bytes.", space)
		}
		if in, out, ok := ipOctets(); ok {
			value("process_network_receive_bytes_total", "counter", "Number of bytes received by the process over the network.", in)
			value("process_network_transmit_bytes_total", "counter", "Number of bytes sent by the process over the network.", out)
		}
	})
}

// statFields are /proc/self/stat's fields after the command name, which
// may itself hold spaces and parentheses: field 0 is the state.
func statFields() ([]string, bool) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(data[i+1:]))
	return f, len(f) > 21
}

// bootTime is the btime line of /proc/stat: when the system started, in
// seconds since the epoch.
func bootTime() (float64, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			t, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return float64(t), err == nil
		}
	}
	return 0, false
}

// openFDs counts the process's open files. Since Linux 6.2 the size of
// /proc/self/fd says it without listing the directory.
func openFDs() (int, bool) {
	if fi, err := os.Stat("/proc/self/fd"); err == nil && fi.Size() > 0 {
		return int(fi.Size()), true
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return len(names), err == nil
}

// limits are the soft limits on open files and on address space from
// /proc/self/limits; "unlimited" reads as the largest uint64, as procfs
// reads it.
func limits() (files, space float64, ok bool) {
	data, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return 0, 0, false
	}
	soft := func(name string) (float64, bool) {
		for line := range strings.Lines(string(data)) {
			if rest, found := strings.CutPrefix(line, name); found {
				f := strings.Fields(rest)
				if len(f) == 0 {
					return 0, false
				}
				if f[0] == "unlimited" {
					return float64(^uint64(0)), true
				}
				n, err := strconv.ParseUint(f[0], 10, 64)
				return float64(n), err == nil
			}
		}
		return 0, false
	}
	files, ok1 := soft("Max open files")
	space, ok2 := soft("Max address space")
	return files, space, ok1 && ok2
}

// ipOctets are the IpExt InOctets and OutOctets of /proc/self/net/netstat:
// the bytes the process's network namespace received and sent, each 0 when
// the kernel does not count it.
func ipOctets() (in, out float64, ok bool) {
	f, err := os.Open("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		names := strings.Fields(sc.Text())
		if !sc.Scan() {
			break
		}
		values := strings.Fields(sc.Text())
		if len(names) == 0 || names[0] != "IpExt:" || len(names) != len(values) {
			continue
		}
		for i, n := range names {
			switch n {
			case "InOctets":
				in, _ = strconv.ParseFloat(values[i], 64)
			case "OutOctets":
				out, _ = strconv.ParseFloat(values[i], 64)
			}
		}
	}
	return in, out, sc.Err() == nil
}
