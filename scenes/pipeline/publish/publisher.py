"""Decide what each lecture still needs on YouTube (the plan) and do it, step by step.

Steps per lecture, in order: ``video`` (videos.insert, resumable), ``metadata`` (videos.update, only
when the video is already up and its title/description/tags or an explicitly requested privacy
changed), ``thumbnail`` (thumbnails.set), ``captions`` (captions.insert, or captions.update when the
video already has our track) and ``playlist`` (playlistItems.insert at the lecture's position).
The manifest is written after every completed step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from .errors import ApiError
from .lecture import LANGUAGE, Lecture
from .manifest import Manifest
from .upload import DEFAULT_CHUNKSIZE, Backoff, execute, resume_session, run_resumable

LOG = logging.getLogger("attn.publish")

CAPTION_NAME = "English"
PRIVACY_CHOICES = ("private", "unlisted", "public")
DEFAULT_PLAYLIST = "Attention in Transformers"
PLAYLIST_DESCRIPTION = "Attention Lectures: a narrated course on attention in transformers."


@dataclass(frozen=True)
class Action:
    step: str
    methods: tuple[str, ...]
    note: str


@dataclass
class LecturePlan:
    lecture: Lecture
    hashes: dict
    actions: list[Action]
    replaces: str | None = None  # the video id a new upload supersedes

    @property
    def up_to_date(self) -> bool:
        return not self.actions


@dataclass
class Plan:
    lectures: list[LecturePlan]
    playlist_title: str
    privacy: str
    playlist_known: bool

    @property
    def empty(self) -> bool:
        return all(lp.up_to_date for lp in self.lectures)

    def methods(self) -> list[str]:
        """API methods the run will call (worst case: the playlist is created if not found)."""
        out = [m for lp in self.lectures for a in lp.actions for m in a.methods]
        if not self.playlist_known and any(a.step == "playlist" for lp in self.lectures for a in lp.actions):
            out += ["playlists.list", "playlists.insert"]
        return out


def human_size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError  # unreachable


def _mb(path) -> str:
    return human_size(path.stat().st_size)


def plan_lecture(lecture: Lecture, hashes: dict, rec: dict, *, playlist_title: str, privacy: str,
                 privacy_explicit: bool) -> LecturePlan:
    actions: list[Action] = []
    video_id = rec.get("video_id")
    replaces = None
    new_video = not video_id or rec.get("video_sha256") != hashes["video"]
    if new_video:
        if video_id:
            replaces = video_id
            note = (f"upload {lecture.video.name} ({_mb(lecture.video)}) AGAIN: the file changed since "
                    f"{video_id} was uploaded; {video_id} is left on the channel")
        else:
            note = f"upload {lecture.video.name} ({_mb(lecture.video)}), {privacy}"
        actions.append(Action("video", ("videos.insert",), note))
    else:
        changed = []
        if rec.get("metadata_sha256") != hashes["metadata"]:
            changed.append("title/description/tags")
        if privacy_explicit and rec.get("privacy") != privacy:
            changed.append(f"privacy {rec.get('privacy')} -> {privacy}")
        if changed:
            actions.append(Action("metadata", ("videos.update",), f"update {' and '.join(changed)} of {video_id}"))
    if new_video or rec.get("thumbnail_sha256") != hashes["thumbnail"]:
        actions.append(Action("thumbnail", ("thumbnails.set",),
                              f"set {lecture.thumbnail.name} ({_mb(lecture.thumbnail)})"))
    if new_video or rec.get("captions_sha256") != hashes["captions"]:
        if not new_video and rec.get("caption_id"):
            note = f"replace the English track with {lecture.captions.name}"
            actions.append(Action("captions", ("captions.update",), note))
        else:
            note = f"add {lecture.captions.name} as '{CAPTION_NAME}' ({LANGUAGE})"
            actions.append(Action("captions", ("captions.insert",), note))
    in_playlist = (
        rec.get("playlist_item_id")
        and rec.get("playlist_title") == playlist_title
        and rec.get("playlist_video_id") == video_id
    )
    if new_video or not in_playlist:
        methods: tuple[str, ...] = ("playlistItems.insert",)
        note = f"add to playlist '{playlist_title}'"
        if rec.get("playlist_item_id") and rec.get("playlist_title") == playlist_title:
            methods = ("playlistItems.delete", "playlistItems.insert")
            note = f"replace the old video's entry in playlist '{playlist_title}'"
        actions.append(Action("playlist", methods, note))
    return LecturePlan(lecture=lecture, hashes=hashes, actions=actions, replaces=replaces)


def make_plan(lectures: list[Lecture], manifest: Manifest, *, playlist_title: str, privacy: str,
              privacy_explicit: bool) -> Plan:
    plans = [
        plan_lecture(lec, lec.file_hashes(), manifest.get(lec.id), playlist_title=playlist_title,
                     privacy=privacy, privacy_explicit=privacy_explicit)
        for lec in sorted(lectures, key=lambda lec: lec.id)
    ]
    return Plan(lectures=plans, playlist_title=playlist_title, privacy=privacy,
                playlist_known=manifest.playlist_id(playlist_title) is not None)


def describe(plan: Plan) -> list[str]:
    lines = []
    for lp in plan.lectures:
        lec = lp.lecture
        head = f"{lec.id} {lec.title}"
        if lp.up_to_date:
            lines.append(f"{head}: up to date, nothing to do")
            continue
        lines.append(head)
        for action in lp.actions:
            lines.append(f"   {action.step:<9} {action.note}")
    return lines


@dataclass
class Publisher:
    service: Any
    manifest: Manifest
    playlist_title: str = DEFAULT_PLAYLIST
    privacy: str = "private"
    privacy_explicit: bool = False  # only then is the privacy of videos already up changed
    backoff: Backoff = field(default_factory=Backoff)
    chunksize: int = DEFAULT_CHUNKSIZE
    out: Callable[[str], Any] = print
    skipped: list[str] = field(default_factory=list)
    replaced: list[tuple[str, str, str]] = field(default_factory=list)  # (lecture, old id, new id)
    orphaned: set[str] = field(default_factory=set)  # lectures whose recorded playlist was deleted

    def run(self, plan: Plan) -> None:
        for lp in plan.lectures:
            for action in lp.actions:
                getattr(self, f"_do_{action.step}")(lp)
        # Lectures that were in a playlist found deleted during this run: add them to its replacement.
        for lp in plan.lectures:
            if lp.lecture.id in self.orphaned:
                self._do_playlist(lp)
        if self.orphaned:
            message = (f"lecture(s) {', '.join(sorted(self.orphaned))} were in the deleted playlist; "
                       "rerun with --lecture all to add them to the new one")
            self.skipped.append(message)

    # -- helpers ---------------------------------------------------------------------------------

    def _status_body(self, lecture: Lecture, privacy: str | None = None) -> dict:
        return {
            "privacyStatus": privacy or self.privacy,
            "selfDeclaredMadeForKids": False,
            "containsSyntheticMedia": lecture.contains_synthetic_media,
        }

    def _media(self, path, mimetype: str, resumable: bool):
        from googleapiclient.http import MediaFileUpload

        if resumable:
            return MediaFileUpload(str(path), mimetype=mimetype, chunksize=self.chunksize, resumable=True)
        return MediaFileUpload(str(path), mimetype=mimetype, resumable=False)

    @staticmethod
    def _close(media) -> None:
        stream = media.stream() if media is not None else None
        if stream is not None:
            stream.close()

    # -- steps -----------------------------------------------------------------------------------

    def _do_video(self, lp: LecturePlan) -> None:
        lec = lp.lecture
        what = f"{lec.id} video"
        # A replacement keeps the privacy of the video it replaces unless --privacy was given.
        privacy = self.privacy
        if lp.replaces and not self.privacy_explicit:
            privacy = self.manifest.get(lec.id).get("privacy", self.privacy)
        media = self._media(lec.video, lec.video_mimetype, resumable=True)
        total = lec.video.stat().st_size
        shown = [-1]

        def progress(sent: int, size: int | None) -> None:
            tenth = int(10 * sent / (size or total or 1))
            if tenth != shown[0]:
                shown[0] = tenth
                self.out(f"   {what}: {human_size(sent)} of {human_size(total)} sent")

        def remember(uri: str) -> None:  # written at once: a crash after this point can resume
            self.manifest.record(lec.id)["upload_session"] = {
                "uri": uri, "video_sha256": lp.hashes["video"], "started_at": _now()}
            self.manifest.save()

        saved = self.manifest.get(lec.id).get("upload_session") or {}
        resume = saved.get("uri") if saved.get("video_sha256") == lp.hashes["video"] else None
        try:
            while True:
                request = self.service.videos().insert(
                    part="snippet,status",
                    body={"snippet": lec.snippet(), "status": self._status_body(lec, privacy)},
                    media_body=media,
                    notifySubscribers=False,
                )
                if resume:
                    resume_session(request, resume)
                    self.out(f"   {what}: resuming the upload session started {saved.get('started_at')}")
                else:
                    self.out(f"   {what}: uploading {lec.video.name}")
                try:
                    response = run_resumable(request, self.backoff, what, progress, on_session=remember)
                    break
                except ApiError as exc:
                    if not resume or exc.status not in (404, 410):
                        raise
                    self.out(f"   {what}: the saved upload session has expired; starting a new one")
                    self.manifest.record(lec.id).pop("upload_session", None)
                    self.manifest.save()
                    resume = None
                    self._close(media)
                    media = self._media(lec.video, lec.video_mimetype, resumable=True)
        finally:
            self._close(media)
        video_id = response["id"]
        rec = self.manifest.record(lec.id)
        rec.pop("upload_session", None)
        if lp.replaces:
            rec.setdefault("replaced", []).append(
                {"video_id": lp.replaces, "video_sha256": rec.get("video_sha256"), "replaced_at": _now()}
            )
            for key in ("thumbnail_sha256", "captions_sha256", "caption_id"):
                rec.pop(key, None)
            for step in ("metadata", "thumbnail", "captions", "playlist"):
                rec.get("steps", {}).pop(step, None)
            self.replaced.append((lec.id, lp.replaces, video_id))
        self.manifest.mark(
            lec.id, "video", slug=lec.slug, video_id=video_id, video_sha256=lp.hashes["video"],
            metadata_sha256=lp.hashes["metadata"], privacy=privacy,
        )
        self.out(f"   {what}: uploaded as {video_id} ({privacy})")

    def _do_metadata(self, lp: LecturePlan) -> None:
        lec = lp.lecture
        rec = self.manifest.get(lec.id)
        body: dict = {"id": rec["video_id"]}
        parts = []
        if rec.get("metadata_sha256") != lp.hashes["metadata"]:
            body["snippet"] = lec.snippet()
            parts.append("snippet")
        if self.privacy_explicit and rec.get("privacy") != self.privacy:
            body["status"] = self._status_body(lec)
            parts.append("status")
        request = self.service.videos().update(part=",".join(parts), body=body)
        execute(request, self.backoff, f"{lec.id} metadata")
        fields = {"metadata_sha256": lp.hashes["metadata"]}
        if "status" in parts:
            fields["privacy"] = self.privacy
        self.manifest.mark(lec.id, "metadata", **fields)
        self.out(f"   {lec.id} metadata: updated {', '.join(parts)} of {rec['video_id']}")

    def _do_thumbnail(self, lp: LecturePlan) -> None:
        lec = lp.lecture
        video_id = self.manifest.get(lec.id)["video_id"]
        media = self._media(lec.thumbnail, lec.thumbnail_mimetype, resumable=False)
        try:
            request = self.service.thumbnails().set(videoId=video_id, media_body=media)
        finally:
            self._close(media)
        try:
            execute(request, self.backoff, f"{lec.id} thumbnail")
        except ApiError as exc:
            if exc.status != 403:
                raise
            message = (f"{lec.id} thumbnail: refused ({exc.message}). Custom thumbnails need a verified "
                       "channel (https://www.youtube.com/verify); the step stays pending for the next run")
            self.skipped.append(message)
            self.out(f"   WARNING {message}")
            return
        self.manifest.mark(lec.id, "thumbnail", thumbnail_sha256=lp.hashes["thumbnail"])
        self.out(f"   {lec.id} thumbnail: set")

    def _do_captions(self, lp: LecturePlan) -> None:
        lec = lp.lecture
        rec = self.manifest.get(lec.id)
        what = f"{lec.id} captions"
        caption_id = rec.get("caption_id")
        response = None
        if caption_id:
            media = self._media(lec.captions, "application/octet-stream", resumable=False)
            try:
                request = self.service.captions().update(
                    part="snippet", body={"id": caption_id, "snippet": {"isDraft": False}}, media_body=media
                )
            finally:
                self._close(media)
            try:
                response = execute(request, self.backoff, what)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                LOG.warning("%s: caption track %s is gone; adding a new one", what, caption_id)
        if response is None:
            media = self._media(lec.captions, "application/octet-stream", resumable=False)
            try:
                request = self.service.captions().insert(
                    part="snippet",
                    body={"snippet": {"videoId": rec["video_id"], "language": LANGUAGE,
                                      "name": CAPTION_NAME, "isDraft": False}},
                    media_body=media,
                )
            finally:
                self._close(media)
            response = execute(request, self.backoff, what)
        self.manifest.mark(lec.id, "captions", captions_sha256=lp.hashes["captions"],
                           caption_id=response.get("id", caption_id))
        self.out(f"   {what}: {'replaced' if caption_id else 'added'} ({CAPTION_NAME})")

    def _playlist_id(self) -> str:
        title = self.playlist_title
        known = self.manifest.playlist_id(title)
        if known:
            return known
        page = None
        while True:
            kwargs = {"part": "snippet", "mine": True, "maxResults": 50}
            if page:
                kwargs["pageToken"] = page
            response = execute(self.service.playlists().list(**kwargs), self.backoff, "playlists.list")
            for item in response.get("items", []):
                if item.get("snippet", {}).get("title") == title:
                    self.manifest.set_playlist_id(title, item["id"])
                    self.manifest.save()
                    self.out(f"   playlist '{title}' found: {item['id']}")
                    return item["id"]
            page = response.get("nextPageToken")
            if not page:
                break
        request = self.service.playlists().insert(
            part="snippet,status",
            body={"snippet": {"title": title, "description": PLAYLIST_DESCRIPTION,
                              "defaultLanguage": LANGUAGE},
                  "status": {"privacyStatus": self.privacy}},
        )
        response = execute(request, self.backoff, "playlists.insert")
        self.manifest.set_playlist_id(title, response["id"])
        self.manifest.save()
        self.out(f"   playlist '{title}' created: {response['id']} ({self.privacy})")
        return response["id"]

    def _position(self, lecture_id: str, playlist_id: str) -> int:
        """Lectures with a lower id already in this playlist: keeps the playlist in lecture order."""
        count = 0
        for other, rec in self.manifest.data["lectures"].items():
            if (other < lecture_id and rec.get("playlist_id") == playlist_id and rec.get("playlist_item_id")
                    and rec.get("playlist_video_id") == rec.get("video_id")):
                count += 1
        return count

    def _do_playlist(self, lp: LecturePlan) -> None:
        lec = lp.lecture
        what = f"{lec.id} playlist"
        playlist_id = self._playlist_id()
        rec = self.manifest.get(lec.id)
        video_id = rec["video_id"]
        old_item = rec.get("playlist_item_id")
        if old_item and rec.get("playlist_id") == playlist_id and rec.get("playlist_video_id") != video_id:
            try:
                execute(self.service.playlistItems().delete(id=old_item), self.backoff, what)
            except ApiError as exc:
                if exc.status != 404:
                    raise
            stored = self.manifest.record(lec.id)
            for key in ("playlist_item_id", "playlist_video_id"):
                stored.pop(key, None)
            self.manifest.save()
            self.out(f"   {what}: removed the entry of the replaced video")

        def insert(pid: str, position: int | None) -> dict:
            snippet = {"playlistId": pid, "resourceId": {"kind": "youtube#video", "videoId": video_id}}
            if position is not None:
                snippet["position"] = position
            request = self.service.playlistItems().insert(part="snippet", body={"snippet": snippet})
            return execute(request, self.backoff, what)

        position: int | None = self._position(lec.id, playlist_id)
        try:
            try:
                response = insert(playlist_id, position)
            except ApiError as exc:
                if exc.status == 404 and self.manifest.playlist_id(self.playlist_title) == playlist_id:
                    # The recorded playlist was deleted on YouTube: find or create it again.
                    self.manifest.set_playlist_id(self.playlist_title, None)
                    for other, stored in self.manifest.data["lectures"].items():
                        if other != lec.id and stored.get("playlist_id") == playlist_id:
                            for key in ("playlist_item_id", "playlist_video_id"):
                                stored.pop(key, None)
                            stored.get("steps", {}).pop("playlist", None)
                            self.orphaned.add(other)
                    self.manifest.save()
                    self.out(f"   {what}: playlist {playlist_id} no longer exists; finding or creating it again")
                    playlist_id = self._playlist_id()
                    position = self._position(lec.id, playlist_id)
                    response = insert(playlist_id, position)
                else:
                    raise
        except ApiError as exc:
            if exc.status == 400 and any("position" in r.lower() for r in exc.reasons):
                position = None  # the playlist holds fewer items than recorded: append instead
                response = insert(playlist_id, None)
            else:
                raise
        self.manifest.mark(lec.id, "playlist", playlist_title=self.playlist_title, playlist_id=playlist_id,
                           playlist_item_id=response["id"], playlist_video_id=video_id)
        self.orphaned.discard(lec.id)
        where = "at the end" if position is None else f"at position {position}"
        self.out(f"   {what}: added to '{self.playlist_title}' {where}")


def _now() -> str:
    from .manifest import utc_now

    return utc_now()
