package io.refundbroker.http;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many large request bodies (operations marked {@code x-large-body}, e.g. the order import) one
 * broker process reads and handles at a time ({@code BROKER_MAX_CONCURRENT_UPLOADS}). A request
 * takes a slot after authentication and before its body is read, and gives it back when its
 * response ends or its connection closes. Shared by every HTTP verticle of the process; thread-safe
 * through one atomic counter.
 */
public final class UploadSlots {
  private final int capacity;
  private final AtomicInteger taken = new AtomicInteger();

  public UploadSlots(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.capacity = capacity;
  }

  public int capacity() {
    return capacity;
  }

  /** Slots in use now. */
  public int inUse() {
    return taken.get();
  }

  /** Takes a slot if one is free. */
  boolean tryTake() {
    while (true) {
      int now = taken.get();
      if (now >= capacity) {
        return false;
      }
      if (taken.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Gives back a slot taken with {@link #tryTake}. */
  void giveBack() {
    taken.decrementAndGet();
  }
}
