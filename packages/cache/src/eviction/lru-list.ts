/** A node that can sit in an intrusive list: the links live on the node, so linking never allocates. */
export interface ListNode<T> {
  prev: T | null;
  next: T | null;
}

/**
 * Intrusive doubly linked list in recency order: `head` is the least recently used end, `tail` the
 * most recent. A node is in at most one list at a time. Every operation is O(1).
 */
export class LruList<T extends ListNode<T>> {
  head: T | null = null;
  tail: T | null = null;
  length = 0;

  /** Appends at the most recent end. */
  push(node: T): void {
    node.prev = this.tail;
    node.next = null;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.length++;
  }

  /** Unlinks a node that is in this list. */
  remove(node: T): void {
    const { prev, next } = node;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    node.prev = null;
    node.next = null;
    this.length--;
  }

  /** Moves a node of this list to the most recent end. */
  moveToTail(node: T): void {
    if (this.tail === node) return;
    const { prev, next } = node;
    // `node` is not the tail, so `next` is set.
    if (prev === null) this.head = next;
    else prev.next = next;
    next!.prev = prev;
    node.prev = this.tail;
    node.next = null;
    this.tail!.next = node;
    this.tail = node;
  }

  /** Unlinks and returns the least recent node. */
  shift(): T | null {
    const node = this.head;
    if (node !== null) this.remove(node);
    return node;
  }

  clear(): void {
    this.head = null;
    this.tail = null;
    this.length = 0;
  }
}
