package main

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// stopsAtOnce: terminate ends the job, as kill does.
const stopsAtOnce = true

// childSys is the Windows part of a child: the job object that holds the
// command and everything it starts. Windows has no SIGTERM to send a
// process tree: terminate and kill both end the job at once.
type childSys struct {
	mu  sync.Mutex
	job windows.Handle // 0 once closed
}

// newChild prepares a child; Windows needs nothing before the command.
func newChild() *child { return &child{exited: make(chan error, 1)} }

// abort ends a child whose command will not run.
func (c *child) abort() {}

// start starts cmd in a new job object that kills every process in it when
// its last handle closes. tguard holds the only handle (it is not
// inheritable), so tguard's exit, whatever its cause, ends the command and
// all it started. The command starts suspended and runs only once it is in
// the job: a process it started before would be outside.
func (c *child) start(cmd *exec.Cmd) error {
	job, err := newKillOnCloseJob()
	if err != nil {
		return fmt.Errorf("creating the command's job object: %w", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_SUSPENDED}
	if err := cmd.Start(); err != nil {
		windows.CloseHandle(job)
		return err
	}
	if err := assignAndResume(job, uint32(cmd.Process.Pid)); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		windows.CloseHandle(job)
		return fmt.Errorf("starting %s in a job object: %w", cmd.Path, err)
	}
	c.cmd, c.sys.job = cmd, job
	go func() {
		err := cmd.Wait()
		// What the command left running must not outlive the lease,
		// which is still held.
		c.sys.end()
		c.exited <- err
	}()
	return nil
}

func newKillOnCloseJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, err
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, err
	}
	return job, nil
}

// assignAndResume puts the suspended process pid in job, then resumes its
// threads (os/exec does not return the handle of the main thread).
func assignAndResume(job windows.Handle, pid uint32) error {
	p, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return err
	}
	err = windows.AssignProcessToJobObject(job, p)
	windows.CloseHandle(p)
	if err != nil {
		return err
	}
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(snap)
	te := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	resumed := 0
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID != pid {
			continue
		}
		t, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, te.ThreadID)
		if err != nil {
			return err
		}
		_, err = windows.ResumeThread(t)
		windows.CloseHandle(t)
		if err != nil {
			return err
		}
		resumed++
	}
	if resumed == 0 {
		return fmt.Errorf("no thread of process %d to resume", pid)
	}
	return nil
}

// signal passes nothing on: the console sends Ctrl-C and Ctrl-Break to
// every process attached to it, the command included, and Windows has no
// other signals to pass.
func (c *child) signal(os.Signal) {}

// terminate ends the job: there is no gentler way to stop a process tree.
func (c *child) terminate() { c.kill() }

// kill ends every process in the job.
func (c *child) kill() {
	c.sys.mu.Lock()
	defer c.sys.mu.Unlock()
	if c.sys.job != 0 {
		_ = windows.TerminateJobObject(c.sys.job, 1)
	}
}

// end kills what is left in the job and closes it.
func (s *childSys) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.job != 0 {
		_ = windows.TerminateJobObject(s.job, 1)
		windows.CloseHandle(s.job)
		s.job = 0
	}
}
