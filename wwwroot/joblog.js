// The job log's follow mode (Pages/Jobs/JobLog.razor): while following, the view stays at the end as lines arrive;
// scrolling up (wheel, touch, keys, the scrollbar) stops it, scrolling back to the end or "Follow" starts it again.
window.ovhaJobLog = {
  attach(box, dotnet) {
    if (!box || box.ovhaLog) return;
    const state = { following: true, last: 0, dotnet };
    box.ovhaLog = state;
    const set = following => {
      if (following === state.following) return;
      state.following = following;
      dotnet.invokeMethodAsync('FollowChanged', following);
    };
    const atEnd = () => box.scrollTop + box.clientHeight >= box.scrollHeight - 24;
    state.stick = () => { if (state.following) box.scrollTop = box.scrollHeight; };
    box.addEventListener('scroll', () => {
      const up = box.scrollTop < state.last - 1;
      state.last = box.scrollTop;
      if (atEnd()) set(true);
      else if (up) set(false);
    }, { passive: true });
    // An upward gesture stops following at once, before a line arriving in the same moment could pull the view down.
    box.addEventListener('wheel', e => { if (e.deltaY < 0) set(false); }, { passive: true });
    box.addEventListener('touchmove', () => { if (!atEnd()) set(false); }, { passive: true });
    box.addEventListener('keydown', e => { if (['ArrowUp', 'PageUp', 'Home'].includes(e.key)) set(false); });
    state.observer = new MutationObserver(() => state.stick());
    state.observer.observe(box, { childList: true, subtree: true, characterData: true });
    state.stick();
  },
  follow(box, following) {
    const state = box && box.ovhaLog;
    if (!state) return;
    state.following = following;
    state.stick();
  },
  detach(box) {
    const state = box && box.ovhaLog;
    if (!state) return;
    state.observer.disconnect();
    delete box.ovhaLog;
  },
  async copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // No clipboard API outside a secure context (plain http on a LAN address): the old way.
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      const done = document.execCommand('copy');
      area.remove();
      return done;
    }
  },
};
