package org.jmbuf.io;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;

/**
 * A Linux TAP device: Ethernet frames in and out of the kernel through {@code /dev/net/tun}, opened with the
 * Foreign Function &amp; Memory API only (no JNI, no helper program).
 *
 * <pre>{@code
 * try (TapDevice tap = TapDevice.open("jmbuf0")) {        // needs root or CAP_NET_ADMIN
 *     if (tap.awaitReadable(100)) {
 *         Mbuf frame = tap.receive(pool);                  // null if nothing is waiting
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <h2>Native calls</h2>
 * {@code open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)}; {@code ioctl(fd, TUNSETIFF, &ifr)} with a
 * {@code struct ifreq} of {@value #IFREQ_SIZE} bytes: {@code ifr_name} ({@value #IFNAMSIZ} bytes, NUL-terminated)
 * then {@code short ifr_flags = IFF_TAP | IFF_NO_PI} (no packet-information prefix: each read or write is
 * exactly one Ethernet frame); {@code read(2)} per received frame, {@code writev(2)} or {@code write(2)} per
 * sent frame, {@code poll(2)} with two {@code struct pollfd}s to wait (the device, and an {@code eventfd(2)} that
 * {@link #wakeup()} signals from any thread), and {@code close(2)}. {@code errno} is
 * captured with {@code Linker.Option.captureCallState("errno")}; failures throw {@link ErrnoException}.
 *
 * <h2>What is copied, what is shared</h2>
 * {@link #receive} reads the frame straight into a cluster of the given pool (the kernel's copy is the only
 * one); the returned chain is the caller's. {@link #send} hands the kernel the chain's own storage with
 * {@code writev} (one {@code iovec} per segment, up to {@value #MAX_IOVECS}) when every segment is in native
 * memory, and otherwise copies the frame into the device's native send buffer and calls {@code write}; the
 * chain is read, not changed, not freed and not kept.
 *
 * <h2>Threads and lifetime</h2>
 * A device belongs to one thread at a time. The interface exists while the device is open (it is not made
 * persistent): {@link #close()} removes it, wherever it was moved ({@code ip link set NAME netns NS} leaves this
 * descriptor attached). Closing frees every native buffer of the device.
 */
public final class TapDevice implements AutoCloseable {
    /** The clone device. */
    public static final String CLONE_DEVICE = "/dev/net/tun";
    /** {@code TUNSETIFF}: {@code _IOW('T', 202, int)}. */
    public static final long TUNSETIFF = 0x400454caL;
    /** {@code IFNAMSIZ}: interface names are at most 15 bytes and a NUL. */
    public static final int IFNAMSIZ = 16;
    /** {@code sizeof(struct ifreq)} on LP64 Linux. */
    public static final int IFREQ_SIZE = 40;
    /** {@code IFF_TAP}: an Ethernet (layer 2) device. */
    public static final short IFF_TAP = 0x0002;
    /** {@code IFF_NO_PI}: no 4-byte packet-information prefix. */
    public static final short IFF_NO_PI = 0x1000;
    /**
     * The longest frame {@link #receive} takes: a cluster. Longer frames (an MTU above
     * {@code MCLBYTES - 18}) are cut by the kernel and dropped here, counted in {@link #oversizeFrames()}.
     */
    public static final int MAX_RECEIVE = MbufPool.MCLBYTES;
    /** The longest frame {@link #send} takes: 64 KiB of IP and an Ethernet header with a VLAN tag. */
    public static final int MAX_SEND = 65_535 + 18;
    /** The most segments a chain may have to be sent without a copy. */
    public static final int MAX_IOVECS = 64;

    private final Arena arena;
    private final MemorySegment state;
    private final MemorySegment pollfd;
    private final MemorySegment iov;
    private final MemorySegment bounce;
    private final String name;
    private final Mbuf.ChunkFunction gather = this::gather;
    private int fd;
    private final int wakeFd;
    private final MemorySegment wakeCount;
    private final Object wakeLock = new Object();
    private int iovCount;
    private long framesReceived;
    private long framesSent;
    private long framesCopied;
    private long sendDrops;
    private long oversize;

    private TapDevice(Arena arena, int fd, int wakeFd, String name) {
        this.arena = arena;
        this.fd = fd;
        this.wakeFd = wakeFd;
        this.name = name;
        this.state = Posix.newState(arena);
        this.pollfd = arena.allocate(2 * Posix.POLLFD_SIZE, 8);
        this.wakeCount = arena.allocate(JAVA_LONG);
        this.iov = arena.allocate(Posix.IOVEC_SIZE * MAX_IOVECS, 8);
        this.bounce = arena.allocate(MAX_SEND, 64);
    }

    /**
     * Creates a TAP interface named {@code name} (or, if {@code name} is null or empty, one the kernel names
     * {@code tapN}; a name with {@code %d} is numbered by the kernel too) and opens it. The interface starts
     * down in the caller's network namespace, with a random MAC address of its own.
     *
     * @throws IllegalArgumentException if {@code name} is longer than 15 bytes or contains '/', whitespace or NUL
     * @throws ErrnoException           if {@code /dev/net/tun} cannot be opened (EPERM/EACCES: not root nor
     *                                  CAP_NET_ADMIN; ENOENT/ENODEV: no tun driver) or {@code TUNSETIFF} fails
     *                                  (EBUSY: the name is taken by another device)
     */
    public static TapDevice open(String name) throws IOException {
        String requested = name == null ? "" : name;
        byte[] bytes = requested.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name \"" + requested + "\" is longer than " + (IFNAMSIZ - 1)
                    + " bytes");
        }
        for (byte b : bytes) {
            if (b == '/' || b == 0 || b == ':' || Character.isWhitespace(b)) {
                throw new IllegalArgumentException("interface name \"" + requested + "\" contains '" + (char) b + "'");
            }
        }
        Arena arena = Arena.ofShared();
        int fd = -1;
        int wakeFd = -1;
        boolean handedOver = false;
        try {
            MemorySegment state = Posix.newState(arena);
            fd = Posix.open(state, arena.allocateFrom(CLONE_DEVICE), Posix.O_RDWR | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
            if (fd < 0) {
                int errno = Posix.errno(state);
                throw new ErrnoException("cannot open " + CLONE_DEVICE, errno, hint(errno));
            }
            MemorySegment ifr = arena.allocate(IFREQ_SIZE, 8);
            MemorySegment.copy(bytes, 0, ifr, ValueLayout.JAVA_BYTE, 0, bytes.length);
            ifr.set(JAVA_SHORT, IFNAMSIZ, (short) (IFF_TAP | IFF_NO_PI));
            if (Posix.ioctl(state, fd, TUNSETIFF, ifr) < 0) {
                int errno = Posix.errno(state);
                throw new ErrnoException("cannot create TAP device \"" + requested + "\" (ioctl TUNSETIFF)", errno,
                        errno == Posix.EBUSY ? "the name is taken by a device of another kind or owner" : hint(errno));
            }
            String actual = ifr.asSlice(0, IFNAMSIZ).getString(0, StandardCharsets.UTF_8);
            wakeFd = Posix.eventfd(state, 0, Posix.O_NONBLOCK | Posix.O_CLOEXEC); // EFD_NONBLOCK | EFD_CLOEXEC
            if (wakeFd < 0) {
                throw new ErrnoException("cannot make the wakeup eventfd of TAP device " + actual,
                        Posix.errno(state), null);
            }
            TapDevice tap = new TapDevice(arena, fd, wakeFd, actual);
            handedOver = true;
            return tap;
        } finally {
            if (!handedOver) {
                if (fd >= 0) {
                    Posix.close(Posix.newState(arena), fd);
                }
                if (wakeFd >= 0) {
                    Posix.close(Posix.newState(arena), wakeFd);
                }
                arena.close();
            }
        }
    }

    private static String hint(int errno) {
        return switch (errno) {
            case Posix.EPERM, Posix.EACCES -> "run as root or grant CAP_NET_ADMIN";
            case Posix.ENOENT, Posix.ENODEV -> "the tun driver is missing: modprobe tun, or mknod /dev/net/tun c 10 200";
            default -> null;
        };
    }

    /** The interface name the kernel gave the device, for example {@code "jmbuf0"}. */
    public String name() {
        return name;
    }

    /** Whether the device is open. */
    public boolean isOpen() {
        return fd >= 0;
    }

    /**
     * Waits up to {@code timeoutMillis} (0: do not wait; negative: wait for ever) for a frame to read;
     * returns whether one is waiting. An interrupted wait ({@code EINTR}) returns false.
     *
     * @throws IllegalStateException if the device is closed
     * @throws IOException           if {@code poll} fails or reports an error or hang-up on the descriptor
     *                               (the interface was deleted)
     */
    public boolean awaitReadable(int timeoutMillis) throws IOException {
        ensureOpen();
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(JAVA_SHORT, 4, Posix.POLLIN);
        pollfd.set(JAVA_SHORT, 6, (short) 0);
        pollfd.set(JAVA_INT, Posix.POLLFD_SIZE, wakeFd);
        pollfd.set(JAVA_SHORT, Posix.POLLFD_SIZE + 4, Posix.POLLIN);
        pollfd.set(JAVA_SHORT, Posix.POLLFD_SIZE + 6, (short) 0);
        int r = Posix.poll(state, pollfd, 2, timeoutMillis);
        if (r < 0) {
            int errno = Posix.errno(state);
            if (errno == Posix.EINTR) {
                return false;
            }
            throw new ErrnoException("poll on TAP device " + name, errno, null);
        }
        if (r == 0) {
            return false;
        }
        if ((pollfd.get(JAVA_SHORT, Posix.POLLFD_SIZE + 6) & Posix.POLLIN) != 0) {
            Posix.read(state, wakeFd, wakeCount, 8); // reset the counter: the wakeup is taken
        }
        short revents = pollfd.get(JAVA_SHORT, 6);
        if ((revents & Posix.POLLIN) != 0) {
            return true;
        }
        if ((revents & (Posix.POLLERR | Posix.POLLHUP | Posix.POLLNVAL)) != 0) {
            throw new IOException("TAP device " + name + " reported revents 0x" + Integer.toHexString(revents & 0xffff)
                    + " (error or hang-up: was the interface deleted?)");
        }
        return false;
    }

    /**
     * Reads the next frame into a cluster of {@code pool} and returns it as a packet (the caller's, to free),
     * or returns null if no frame is waiting. A frame of {@link #MAX_RECEIVE} bytes or more is dropped (it
     * was cut) and counted, and the next one is read.
     *
     * <p>The frame is read straight into the cluster's native memory: the chain is prepared with
     * {@link Mbuf#align}{@code (0)} and {@link Mbuf#prepend}{@code (MCLBYTES)} (which zero-fills the cluster:
     * the one cost of using only jmbuf-buf's public API), the whole cluster is taken with
     * {@link Mbuf#pulldown} (contiguous and writable already, so nothing moves and no guaranteed region is
     * made), {@code read(2)} fills it, and the tail is trimmed with {@link Mbuf#adj}.
     *
     * @throws IllegalStateException                 if the device is closed
     * @throws org.jmbuf.buf.NoBufferSpaceException if the pool has no cluster; the frame stays in the kernel
     * @throws ErrnoException                        if {@code read} fails other than with {@code EAGAIN}
     *                                               (EBADFD: the interface was deleted)
     */
    public Mbuf receive(MbufPool pool) throws IOException {
        Objects.requireNonNull(pool, "pool");
        ensureOpen();
        while (true) {
            Mbuf m = pool.getCluster(true);
            boolean handedOut = false;
            try {
                m.align(0);
                m.prepend(MAX_RECEIVE);
                MemorySegment target = m.pulldown(0, MAX_RECEIVE);
                long n;
                if (target.isNative()) {
                    n = Posix.read(state, fd, target, MAX_RECEIVE);
                } else {
                    n = Posix.read(state, fd, bounce, MAX_RECEIVE);
                    if (n > 0) {
                        MemorySegment.copy(bounce, 0, target, 0, Math.min(n, MAX_RECEIVE));
                    }
                }
                Reference.reachabilityFence(m);
                if (n < 0) {
                    int errno = Posix.errno(state);
                    if (errno == Posix.EAGAIN) {
                        return null;
                    }
                    if (errno == Posix.EINTR) {
                        continue;
                    }
                    throw new ErrnoException("read from TAP device " + name, errno, null);
                }
                if (n == 0) {
                    return null;
                }
                if (n >= MAX_RECEIVE) {
                    oversize++;
                    continue;
                }
                m.adj(-(MAX_RECEIVE - (int) n));
                framesReceived++;
                handedOut = true;
                return m;
            } finally {
                if (!handedOut) {
                    m.free();
                }
            }
        }
    }

    /**
     * Writes {@code frame} (a whole Ethernet frame) to the device, for the kernel to receive on the interface.
     * Returns false, counting a drop, if the kernel would not take it now: {@code EAGAIN} or {@code ENOBUFS}
     * (queue full), {@code EIO} (the interface is down). The frame is still the caller's either way.
     *
     * @throws IllegalStateException    if the device is closed
     * @throws IllegalArgumentException if the frame is shorter than an Ethernet header or longer than
     *                                  {@link #MAX_SEND}
     * @throws ErrnoException           if {@code writev}/{@code write} fails otherwise
     */
    public boolean send(Mbuf frame) throws IOException {
        ensureOpen();
        int length = frame.length();
        if (length < 14 || length > MAX_SEND) {
            throw new IllegalArgumentException("a frame of " + length + " bytes cannot be sent (14.." + MAX_SEND + ")");
        }
        while (true) {
            iovCount = 0;
            long n;
            if (frame.apply(0, length, gather) == 0) {
                n = Posix.writev(state, fd, iov, iovCount);
            } else {
                frame.copyData(0, length, bounce, 0);
                framesCopied++;
                n = Posix.write(state, fd, bounce, length);
            }
            Reference.reachabilityFence(frame); // its storage must outlive the call
            if (n >= 0) {
                framesSent++;
                return true;
            }
            int errno = Posix.errno(state);
            if (errno == Posix.EINTR) {
                continue;
            }
            if (errno == Posix.EAGAIN || errno == Posix.ENOBUFS || errno == Posix.EIO) {
                sendDrops++;
                return false;
            }
            throw new ErrnoException("write to TAP device " + name, errno, null);
        }
    }

    // One iovec per piece; a heap piece or too many pieces stop the walk (and the frame is copied instead).
    private int gather(MemorySegment chunk) {
        if (!chunk.isNative() || iovCount == MAX_IOVECS) {
            return 1;
        }
        long at = iovCount * Posix.IOVEC_SIZE;
        iov.set(JAVA_LONG, at, chunk.address());
        iov.set(JAVA_LONG, at + 8, chunk.byteSize());
        iovCount++;
        return 0;
    }

    /** Frames {@link #receive} returned. */
    public long framesReceived() {
        return framesReceived;
    }

    /** Frames dropped on receive because they were {@link #MAX_RECEIVE} bytes or longer. */
    public long oversizeFrames() {
        return oversize;
    }

    /** Frames {@link #send} wrote. */
    public long framesSent() {
        return framesSent;
    }

    /** Frames {@link #send} had to copy into the send buffer (a heap segment, or too many segments). */
    public long framesCopied() {
        return framesCopied;
    }

    /** Frames {@link #send} could not write ({@code EAGAIN}, {@code ENOBUFS}, {@code EIO}). */
    public long sendDrops() {
        return sendDrops;
    }

    private void ensureOpen() {
        if (fd < 0) {
            throw new IllegalStateException("TAP device " + name + " is closed");
        }
    }

    /**
     * Closes the descriptor, which deletes the interface, and frees the device's native memory. Idempotent;
     * never throws (an error from {@code close(2)} is ignored: Linux releases the descriptor regardless).
     * Must not run while another thread is inside a call on this device.
     */
    @Override
    public void close() {
        synchronized (wakeLock) {
            if (fd < 0) {
                return;
            }
            Posix.close(state, fd);
            Posix.close(state, wakeFd);
            fd = -1;
        }
        arena.close();
    }

    /**
     * Makes a wait in {@link #awaitReadable} return at once (false, unless a frame is waiting too), or the
     * next one if none is in progress. The one call any thread may make at any time; does nothing once the
     * device is closed.
     */
    public void wakeup() {
        synchronized (wakeLock) {
            if (fd < 0) {
                return;
            }
            try (Arena call = Arena.ofConfined()) {
                MemorySegment one = call.allocate(JAVA_LONG);
                one.set(JAVA_LONG, 0, 1L);
                Posix.write(Posix.newState(call), wakeFd, one, 8); // EAGAIN (counter full) still leaves it readable
            }
        }
    }

    @Override
    public String toString() {
        return "TapDevice[" + name + (fd < 0 ? ", closed" : "") + "]";
    }
}
