package dataset

import "syscall"

// defaultMaxBytes is half the memory this process may use: the physical memory, or the
// address-space limit (ulimit -v) where that is lower. The rest is the model's and the
// batches'.
func defaultMaxBytes() (int64, string) {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return fallbackMaxBytes, "a fixed limit: this machine's memory is unknown"
	}
	total, why := int64(si.Totalram)*int64(si.Unit), "half this machine's memory"
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err == nil && rl.Cur != ^uint64(0) && int64(rl.Cur) > 0 && int64(rl.Cur) < total {
		total, why = int64(rl.Cur), "half the address space ulimit -v allows"
	}
	return total / 2, why
}
