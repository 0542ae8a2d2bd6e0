/** A binary min-heap of the timers loaded for the near future, ordered by due time then position. */
export interface NearTimer {
  dueAt: number;
  position: number;
  partition: number;
  offset: number;
  /** Wheel slot the timer was loaded from (or will be, for one scheduled into a loaded slot). */
  slot: number;
}

function before(a: NearTimer, b: NearTimer): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.position < b.position);
}

export class NearHeap {
  private items: NearTimer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): NearTimer | undefined {
    return this.items[0];
  }

  push(t: NearTimer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): NearTimer | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  values(): readonly NearTimer[] {
    return this.items;
  }
}
