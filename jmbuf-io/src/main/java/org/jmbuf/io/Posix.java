package org.jmbuf.io;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Map;

/**
 * The few libc calls jmbuf-io makes, bound with the Foreign Function &amp; Memory API (no JNI): open, ioctl,
 * read, write, writev, poll, eventfd, close and strerror. Every call but strerror captures {@code errno}
 * ({@link Linker.Option#captureCallState}) into a caller-supplied state segment of {@link #STATE_LAYOUT}, so
 * the error is read right after the call, before anything else can change it. Linux x86-64 / aarch64 only
 * (the constants are Linux's).
 */
final class Posix {
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;

    static final short POLLIN = 0x001;
    static final short POLLOUT = 0x004;
    static final short POLLERR = 0x008;
    static final short POLLHUP = 0x010;
    static final short POLLNVAL = 0x020;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int EAGAIN = 11;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int ENODEV = 19;
    static final int EINVAL = 22;
    static final int ENOBUFS = 105;

    /** {@code struct pollfd}: int fd, short events, short revents. */
    static final long POLLFD_SIZE = 8;
    /** {@code struct iovec}: void *iov_base, size_t iov_len (LP64). */
    static final long IOVEC_SIZE = 16;

    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"),
            Map.entry(4, "EINTR"), Map.entry(5, "EIO"), Map.entry(6, "ENXIO"), Map.entry(9, "EBADF"),
            Map.entry(11, "EAGAIN"), Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"), Map.entry(14, "EFAULT"),
            Map.entry(16, "EBUSY"), Map.entry(17, "EEXIST"), Map.entry(19, "ENODEV"), Map.entry(22, "EINVAL"),
            Map.entry(23, "ENFILE"), Map.entry(24, "EMFILE"), Map.entry(25, "ENOTTY"), Map.entry(28, "ENOSPC"),
            Map.entry(77, "EBADFD"), Map.entry(90, "EMSGSIZE"), Map.entry(95, "EOPNOTSUPP"),
            Map.entry(105, "ENOBUFS"));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    /** The layout of the call state {@code errno} is captured into. */
    static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE = STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    // int open(const char *path, int flags, ... /* mode_t mode */)
    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            ERRNO, Linker.Option.firstVariadicArg(2));
    // int ioctl(int fd, unsigned long request, ... /* void *arg */)
    private static final MethodHandle IOCTL = downcall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            ERRNO, Linker.Option.firstVariadicArg(2));
    // ssize_t read(int fd, void *buf, size_t count)
    private static final MethodHandle READ = downcall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
            ERRNO);
    // ssize_t write(int fd, const void *buf, size_t count)
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
            ERRNO);
    // ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
    private static final MethodHandle WRITEV = downcall("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT),
            ERRNO);
    // int poll(struct pollfd *fds, nfds_t nfds, int timeout)
    private static final MethodHandle POLL = downcall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
            ERRNO);
    // int close(int fd)
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
    // int eventfd(unsigned int initval, int flags)
    private static final MethodHandle EVENTFD = downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
            ERRNO);
    // char *strerror(int errnum)
    private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Posix() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** A call state segment, allocated in {@code arena}. */
    static MemorySegment newState(Arena arena) {
        return arena.allocate(STATE_LAYOUT);
    }

    /** The {@code errno} the last call through {@code state} captured. */
    static int errno(MemorySegment state) {
        return (int) ERRNO_HANDLE.get(state, 0L);
    }

    static int open(MemorySegment state, MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(state, path, flags, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioctl(MemorySegment state, int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL.invokeExact(state, fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long read(MemorySegment state, int fd, MemorySegment buffer, long count) {
        try {
            return (long) READ.invokeExact(state, fd, buffer, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long write(MemorySegment state, int fd, MemorySegment buffer, long count) {
        try {
            return (long) WRITE.invokeExact(state, fd, buffer, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long writev(MemorySegment state, int fd, MemorySegment iov, int count) {
        try {
            return (long) WRITEV.invokeExact(state, fd, iov, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int poll(MemorySegment state, MemorySegment fds, long count, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(state, fds, count, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code eventfd(2)}: a counter descriptor, readable while non-zero; used to wake a thread in {@code poll}. */
    static int eventfd(MemorySegment state, int initval, int flags) {
        try {
            return (int) EVENTFD.invokeExact(state, initval, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int close(MemorySegment state, int fd) {
        try {
            return (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code "Operation not permitted (EPERM)"}: libc's text for {@code errno} and its symbolic name. */
    static String describe(int errno) {
        String text;
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            text = s.equals(MemorySegment.NULL) ? "error " + errno : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            text = "error " + errno;
        }
        return text + " (" + NAMES.getOrDefault(errno, "errno " + errno) + ")";
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("unexpected checked exception from a native call", t);
    }
}
