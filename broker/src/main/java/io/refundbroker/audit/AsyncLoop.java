package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Repeats an asynchronous step until its state says stop, without chaining one future per round: a
 * round's futures (and the rows they hold) become garbage as soon as the next round starts, so
 * streaming a million events keeps memory flat.
 */
final class AsyncLoop {
  private AsyncLoop() {}

  /**
   * Runs {@code step} from {@code initial} until {@code finished} holds for the state it yields.
   *
   * @return the final state; fails with the first failure of a step
   */
  static <S> Future<S> until(S initial, Predicate<S> finished, Function<S, Future<S>> step) {
    Promise<S> result = Promise.promise();
    next(initial, finished, step, result);
    return result.future();
  }

  private static <S> void next(
      S state, Predicate<S> finished, Function<S, Future<S>> step, Promise<S> result) {
    if (finished.test(state)) {
      result.complete(state);
      return;
    }
    Future<S> round;
    try {
      round = step.apply(state);
    } catch (RuntimeException e) {
      result.fail(e);
      return;
    }
    round.onSuccess(nextState -> next(nextState, finished, step, result)).onFailure(result::fail);
  }
}
