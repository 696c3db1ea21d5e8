package org.jmbuf.net;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The stack's thread for hosts without a device of their own (loopback, {@link SimulatedLink}s run in real
 * time): one thread that runs submitted tasks, every host's input ({@link Host#poll()}) and the
 * {@link Timers} on {@link NetClock#system()}, and sleeps until the next timer or task when there is nothing
 * to do (no busy waiting).
 *
 * <pre>{@code
 * try (HostLoop loop = new HostLoop("stack")) {
 *     Host host = loop.add(new Host("h", pool, loop.timers()));
 *     loop.start();
 *     try (TcpServer server = TcpServer.listen(host, loop, 7, 16);
 *          TcpStream client = TcpStream.connect(host, loop, "127.0.0.1", 7, Duration.ofSeconds(5))) {
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <h2>Threads</h2>
 * The hosts are not thread-safe: once {@link #start()} has run, only the loop's thread may touch them.
 * {@link #execute} (this is the {@link Executor} that {@link TcpStream} and {@link TcpServer} take) and
 * {@link #call} run code there, in submission order; they may be called from any thread, the loop's own
 * included. The loop stops when {@link #close()} is called or when a task, a timer or a host throws (kept in
 * {@link #failure()}; later tasks are rejected).
 */
public final class HostLoop implements Executor, AutoCloseable {
    /** The longest the loop sleeps without looking at its timers and tasks. */
    public static final Duration MAX_SLEEP = Duration.ofMillis(100);

    private final String name;
    private final Timers timers = new Timers(NetClock.system());
    private final List<Host> hosts = new ArrayList<>();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile boolean stop;
    private volatile boolean closed;
    private volatile Throwable failure;
    private volatile Thread thread;

    /** A loop whose thread will be named {@code name}; add hosts, then {@link #start()}. */
    public HostLoop(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /** The timers every host of the loop must schedule on (on {@link NetClock#system()}). */
    public Timers timers() {
        return timers;
    }

    /**
     * Adds {@code host} (made with {@link #timers()}) to the hosts the loop polls; returns it. Call before
     * {@link #start()}, or on the loop's thread.
     *
     * @throws IllegalArgumentException if the host schedules on other timers
     */
    public Host add(Host host) {
        if (host.timers() != timers) {
            throw new IllegalArgumentException("host " + host.name() + " does not use this loop's timers");
        }
        hosts.add(host);
        return host;
    }

    /** Starts the loop on a daemon platform thread; returns this loop. */
    public synchronized HostLoop start() {
        if (closed) {
            throw new IllegalStateException("loop closed");
        }
        if (thread != null) {
            throw new IllegalStateException("loop already started");
        }
        Thread t = Thread.ofPlatform().name(name).daemon().unstarted(this::loop);
        thread = t;
        t.start();
        return this;
    }

    /** Whether the caller is the loop's thread. */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    private void loop() {
        try {
            while (!stop) {
                boolean busy = runTasks();
                for (int i = 0; i < 64; i++) {
                    int work = 0;
                    for (Host h : hosts) {
                        work += h.poll();
                    }
                    work += timers.runDue();
                    if (work == 0) {
                        break;
                    }
                    busy = true;
                }
                if (!busy && tasks.isEmpty() && !stop) {
                    long wait = Math.min(timers.nextDeadline() - timers.clock().nanoTime(), MAX_SLEEP.toNanos());
                    if (wait > 0) {
                        LockSupport.parkNanos(this, wait);
                    }
                }
            }
        } catch (Throwable t) {
            failure = t;
            stop = true;
        }
        Runnable task;
        while ((task = tasks.poll()) != null) {
            if (task instanceof FutureTask<?> f) {
                f.future.cancel(false);
            }
        }
    }

    private boolean runTasks() {
        boolean ran = false;
        Runnable task;
        while ((task = tasks.poll()) != null) {
            task.run();
            ran = true;
        }
        return ran;
    }

    /**
     * Runs {@code task} on the loop's thread, after the tasks submitted before it. A task that throws stops
     * the loop (see {@link #failure()}).
     *
     * @throws RejectedExecutionException if the loop is closed or has failed
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (stop) {
            throw new RejectedExecutionException("loop " + name
                    + (failure != null ? " failed: " + failure : " closed"));
        }
        tasks.add(task);
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            LockSupport.unpark(t);
        }
    }

    private record FutureTask<T>(Callable<T> body, CompletableFuture<T> future) implements Runnable {
        @Override
        public void run() {
            if (future.isDone()) {
                return;
            }
            try {
                future.complete(body.call());
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        }
    }

    /**
     * Runs {@code task} on the loop's thread; the future completes with its result or what it threw (which
     * does not stop the loop). Never call {@code get} on it from the loop's thread.
     *
     * @throws RejectedExecutionException if the loop is closed or has failed
     */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        CompletableFuture<T> future = new CompletableFuture<>();
        execute(new FutureTask<>(Objects.requireNonNull(task, "task"), future));
        return future;
    }

    /**
     * {@link #submit} and wait up to {@code timeout} for the result.
     *
     * @throws ExecutionException if the task threw (its exception is the cause)
     * @throws TimeoutException   if it did not finish in time (it may still run later)
     */
    public <T> T call(Callable<T> task, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        return submit(task).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** What stopped the loop, or null. */
    public Throwable failure() {
        return failure;
    }

    /**
     * Stops the loop and waits (up to 10 seconds) for its thread, cancels tasks that did not run and closes
     * every host ({@link Host#close()}: connections aborted, queues freed). Idempotent.
     *
     * @throws IllegalStateException if the thread does not stop (a task blocks); nothing is closed then
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
        if (t != null && t != Thread.currentThread()) {
            LockSupport.unpark(t);
            boolean interrupted = false;
            try {
                t.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (t.isAlive()) {
                throw new IllegalStateException("the loop thread " + name + " did not stop");
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        Runnable task;
        while ((task = tasks.poll()) != null) {
            if (task instanceof FutureTask<?> f) {
                f.future.cancel(false);
            }
        }
        for (Host h : hosts) {
            h.close();
        }
    }

    @Override
    public String toString() {
        return "HostLoop[" + name + ", " + hosts.size() + " hosts]";
    }
}
