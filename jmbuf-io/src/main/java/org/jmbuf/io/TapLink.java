package org.jmbuf.io;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.net.EthernetInterface;
import org.jmbuf.net.Host;
import org.jmbuf.net.NetClock;
import org.jmbuf.net.Timers;
import org.jmbuf.wire.MacAddress;

/**
 * A jmbuf {@link Host} on a real Linux TAP interface: an {@link EthernetInterface} whose driver writes to a
 * {@link TapDevice}, and a loop that waits on the device, hands received frames to the interface, runs the
 * host's input ({@link Host#poll()}) and its {@link Timers} on {@link NetClock#system()}.
 *
 * <pre>{@code
 * try (TapLink link = TapLink.open("jmbuf", "jmbuf0", pool, MacAddress.parse("02:00:00:00:00:02"))) {
 *     link.host().addIpv4(link.ifp(), Ipv4Address.parse("192.0.2.2"), 24);   // configure, then
 *     link.start();                                                          // run on a thread of its own
 *     link.call(() -> link.host().udp().open().bind(7), Duration.ofSeconds(5)); // touch the host on its thread
 * }
 * }</pre>
 *
 * <h2>Threads</h2>
 * The host is not thread-safe: once {@link #start()} has run, only the link's thread may touch it. Other
 * threads run code there with {@link #submit}/{@link #call}, or every loop iteration with
 * {@link #addPollHook}. Before {@code start}, or without it, the owner may configure the host and drive the
 * loop itself with {@link #runOnce}. The loop stops when {@link #close()} is called or when something in it
 * throws (kept in {@link #failure()}).
 *
 * <h2>What is copied, what is shared</h2>
 * Received frames are read into clusters of the pool ({@link TapDevice#receive}) and handed to the interface
 * without a copy; sent frames are written from their own storage ({@link TapDevice#send}) and then freed.
 *
 * <h2>Closing</h2>
 * {@link #close()} stops and joins the thread, cancels tasks that did not run, frees what the host holds
 * ({@link Host#close()}: queues, hold queues, reassembly) and closes the device, which deletes the
 * interface. Sockets opened on the host are their opener's to close (on the link's thread) before that.
 *
 * <h2>As an executor</h2>
 * A link is the {@link Executor} of its host's thread ({@link #execute}): {@code TcpStream.connect(link.host(),
 * link, ...)} and {@code TcpServer.listen(link.host(), link, ...)} give blocking sockets to any thread. Tasks
 * run in submission order at the start of the next loop iteration; a task submitted from another thread wakes
 * a loop waiting on an idle device ({@link TapDevice#wakeup()}), so it runs at once.
 */
public final class TapLink implements AutoCloseable, Executor {
    /** The IP MTU of the interface: Linux's default for a TAP device. */
    public static final int MTU = 1500;
    /**
     * The longest the loop waits for a frame before it looks at its timers again. A task submitted from
     * another thread wakes it at once ({@link TapDevice#wakeup()}).
     */
    public static final Duration MAX_WAIT = Duration.ofMillis(10);
    /** Frames read from the device per loop iteration, so input does not starve timers and tasks. */
    public static final int RECEIVE_BUDGET = 256;

    private final TapDevice device;
    private final MbufPool pool;
    private final Timers timers;
    private final Host host;
    private final EthernetInterface ifp;
    private final ConcurrentLinkedQueue<Task> tasks = new ConcurrentLinkedQueue<>();
    private final List<Runnable> pollHooks = new CopyOnWriteArrayList<>();
    private volatile boolean stop;
    private volatile Throwable failure;
    private volatile boolean closed;
    private volatile Thread thread;
    private long receiveNoBuffers;

    private TapLink(TapDevice device, String hostName, MbufPool pool, MacAddress mac) {
        this.device = device;
        this.pool = pool;
        this.timers = new Timers(NetClock.system());
        this.host = new Host(hostName, pool, timers);
        this.ifp = host.attach(new EthernetInterface(device.name(), mac, MTU, this::transmit));
    }

    /**
     * Opens TAP device {@code tapName} (see {@link TapDevice#open}) and builds host {@code hostName} on it, with
     * pool {@code pool} and an Ethernet interface named as the device with link-layer address {@code mac}.
     * The host has no address yet and the loop is not running.
     *
     * @throws IOException              if the device cannot be opened (see {@link TapDevice#open})
     * @throws IllegalArgumentException if {@code mac} is not unicast or the name is invalid
     */
    public static TapLink open(String hostName, String tapName, MbufPool pool, MacAddress mac) throws IOException {
        Objects.requireNonNull(hostName, "hostName");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(mac, "mac");
        TapDevice device = TapDevice.open(tapName);
        try {
            return new TapLink(device, hostName, pool, mac);
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
    }

    /** The host; touch it only on the link's thread once {@link #start()} has run. */
    public Host host() {
        return host;
    }

    /** The host's Ethernet interface on the TAP device (named as the device). */
    public EthernetInterface ifp() {
        return ifp;
    }

    /** The device; its counters may be read from any thread, racily. */
    public TapDevice device() {
        return device;
    }

    /** Starts the loop on a daemon thread named {@code jmbuf-tap-NAME}; returns this link. */
    public synchronized TapLink start() {
        if (closed) {
            throw new IllegalStateException("link closed");
        }
        if (thread != null) {
            throw new IllegalStateException("link already started");
        }
        thread = Thread.ofPlatform().name("jmbuf-tap-" + device.name()).daemon().unstarted(this::loop);
        thread.start();
        return this;
    }

    private void loop() {
        try {
            while (!stop) {
                runOnce(MAX_WAIT);
            }
        } catch (Throwable t) {
            if (failure == null) {
                failure = t;
            }
            stop = true;
        }
    }

    /**
     * One iteration of the loop, on the caller's thread (use it instead of {@link #start()}, never beside it):
     * runs queued tasks, waits up to {@code maxWait} (less if a timer or a task is due) for frames, reads up to
     * {@link #RECEIVE_BUDGET} of them into the interface, runs the host's input, the poll hooks and the due
     * timers. Returns how many frames it read. A device error while the host sends is not thrown into the
     * stack: it is kept in {@link #failure()}, which such a caller checks.
     *
     * @throws IOException if waiting on or reading the device fails (the interface was deleted, say)
     */
    public int runOnce(Duration maxWait) throws IOException {
        runTasks();
        long now = timers.clock().nanoTime();
        long untilTimer = Math.max(0, timers.nextDeadline() - now);
        long waitNanos = tasks.isEmpty() ? Math.min(untilTimer, maxWait.toNanos()) : 0;
        int waitMillis = (int) Math.min(Integer.MAX_VALUE, (waitNanos + 999_999) / 1_000_000);
        int frames = 0;
        if (device.awaitReadable(waitMillis)) {
            try {
                Mbuf m;
                while (frames < RECEIVE_BUDGET && (m = device.receive(pool)) != null) {
                    ifp.receive(m);
                    frames++;
                }
            } catch (NoBufferSpaceException e) {
                receiveNoBuffers++; // the frame stays in the kernel until the pool has room
            }
        }
        for (int i = 0; i < 16 && host.poll() > 0; i++) {
            // ipintr until the queues are empty (bounded, so a flood cannot starve the timers)
        }
        for (Runnable hook : pollHooks) {
            hook.run();
        }
        timers.runDue();
        return frames;
    }

    /** A submitted task and the future it completes. */
    private record Task(Runnable body, CompletableFuture<?> future) {
    }

    private void runTasks() {
        Task task;
        while ((task = tasks.poll()) != null) {
            task.body().run();
        }
    }

    // The driver: the frame is written and freed. A device error is not thrown into the stack (which would
    // leave its output half done): it is kept as the failure and stops the loop at its next check.
    private void transmit(Mbuf frame) {
        try (frame) {
            device.send(frame);
        } catch (IOException | RuntimeException e) {
            if (failure == null) {
                failure = e;
            }
            stop = true;
        }
    }

    /**
     * Runs {@code task} on the link's thread at its next iteration (or the next {@link #runOnce}); the future
     * completes with its result or exception. Tasks still queued when the link closes are cancelled.
     *
     * @throws IllegalStateException if the link is closed
     */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        if (closed) {
            throw new IllegalStateException("link closed");
        }
        CompletableFuture<T> future = new CompletableFuture<>();
        tasks.add(new Task(() -> {
            if (future.isDone()) {
                return;
            }
            try {
                future.complete(task.call());
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        }, future));
        if (Thread.currentThread() != thread) {
            device.wakeup(); // the loop may be in poll(2) for up to MAX_WAIT: run the task now
        }
        return future;
    }

    /**
     * Runs {@code task} on the link's thread at its next iteration, after the tasks submitted before it. What
     * the task throws is dropped (it does not stop the loop); tasks still queued when the link closes never
     * run.
     *
     * @throws RejectedExecutionException if the link is closed or its loop has stopped
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (closed || stop) {
            throw new RejectedExecutionException("link " + device.name() + (failure != null
                    ? " failed: " + failure : " closed"));
        }
        try {
            submit(() -> {
                task.run();
                return null;
            });
        } catch (IllegalStateException e) {
            throw new RejectedExecutionException(e.getMessage(), e);
        }
    }

    /**
     * {@link #submit} and wait up to {@code timeout} for the result.
     *
     * @throws ExecutionException if the task threw (its exception is the cause)
     * @throws TimeoutException   if it did not finish in time (it may still run later)
     */
    public <T> T call(Callable<T> task, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        CompletableFuture<T> future = submit(task);
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            Throwable f = failure;
            if (f != null) {
                throw new ExecutionException("the link's loop failed", f);
            }
            throw e;
        }
    }

    /** Adds {@code hook}, run on the link's thread after the host's input at every iteration. */
    public void addPollHook(Runnable hook) {
        pollHooks.add(Objects.requireNonNull(hook, "hook"));
    }

    /** Removes a hook added with {@link #addPollHook}; returns whether it was there. */
    public boolean removePollHook(Runnable hook) {
        return pollHooks.remove(hook);
    }

    /** What stopped the loop, or null if it has not failed. */
    public Throwable failure() {
        return failure;
    }

    /** Whether the loop thread is running. */
    public synchronized boolean isRunning() {
        return thread != null && thread.isAlive();
    }

    /** Times a frame was left in the kernel because the pool had no cluster. */
    public long receiveNoBuffers() {
        return receiveNoBuffers;
    }

    /**
     * Stops the loop and waits for its thread (up to 10 seconds), cancels tasks that did not run, frees what
     * the host holds and closes the device. Idempotent.
     *
     * @throws IllegalStateException if the loop thread does not stop (a task or hook blocks); nothing is
     *                               freed then, since the host may still be in use
     */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            stop = true;
            t = thread;
        }
        device.wakeup();
        if (t != null) {
            boolean interrupted = false;
            try {
                t.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (t.isAlive()) {
                t.interrupt();
                throw new IllegalStateException("the loop thread of " + device.name() + " did not stop");
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        Task task;
        while ((task = tasks.poll()) != null) {
            task.future().cancel(false);
        }
        try {
            host.close();
        } finally {
            device.close();
        }
    }

    @Override
    public String toString() {
        return "TapLink[" + device.name() + ", " + host.name() + "]";
    }
}
