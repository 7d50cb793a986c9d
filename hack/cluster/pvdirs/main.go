// Command pvdirs makes the node's hostPath persistent volumes writable by every pod user.
//
// kube-controller-manager's in-tree hostpath provisioner creates each volume as a directory
// owned by root with mode 0750, and the kubelet applies no fsGroup to hostPath volumes, so a
// pod that runs as a non-root user (all of ours do) could not write to its claim. pvdirs
// watches the provisioner's directory and opens every new volume directory up (mode 0777,
// as minikube's provisioner creates them), long before a pod mounts it:
//
//	pvdirs DIR
//
// It runs until SIGTERM or SIGINT.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"unsafe"
)

// volumeMode is the mode of a volume directory: anyone may write, as with an emptyDir.
const volumeMode fs.FileMode = 0o777

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pvdirs DIR")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1], log); err != nil {
		log.Error("pvdirs", "err", err)
		stop()
		os.Exit(1)
	}
}

// run opens up the volume directories in dir until ctx ends.
func run(ctx context.Context, dir string, log *slog.Logger) error {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("inotify: %w", err)
	}
	// Non-blocking, so reads wait in the runtime's poller and Close ends them.
	events := os.NewFile(uintptr(fd), "inotify")
	defer func() { _ = events.Close() }()
	// Watch first, then open what is there already, so no directory falls in between.
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MOVED_TO|syscall.IN_ONLYDIR); err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			openUp(filepath.Join(dir, e.Name()), log)
		}
	}
	log.Info("watching", "dir", dir)
	context.AfterFunc(ctx, func() { _ = events.Close() })
	buf := make([]byte, 64*(syscall.SizeofInotifyEvent+syscall.NAME_MAX+1))
	for {
		n, err := events.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				log.Info("stopped")
				return nil
			}
			return fmt.Errorf("reading inotify events: %w", err)
		}
		for _, name := range newDirs(buf[:n]) {
			openUp(filepath.Join(dir, name), log)
		}
	}
}

// newDirs returns the names of the directories that the events in buf report as created.
func newDirs(buf []byte) []string {
	var names []string
	for off := 0; off+syscall.SizeofInotifyEvent <= len(buf); {
		ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
		start := off + syscall.SizeofInotifyEvent
		end := start + int(ev.Len)
		if end > len(buf) {
			break
		}
		if ev.Mask&syscall.IN_ISDIR != 0 {
			names = append(names, string(bytes.TrimRight(buf[start:end], "\x00")))
		}
		off = end
	}
	return names
}

func openUp(path string, log *slog.Logger) {
	if err := os.Chmod(path, volumeMode); err != nil {
		log.Error("opening a volume directory", "path", path, "err", err)
		return
	}
	log.Info("volume directory opened", "path", path, "mode", fmt.Sprintf("%#o", volumeMode))
}
