"""Typed card reader errors. Messages never contain card data or a PIN; ``message_ja`` is for the kiosk."""

from __future__ import annotations


class CardReaderError(Exception):
    message_ja = "カードを読み取れませんでした"


class ReaderServiceDownError(CardReaderError):
    """pcscd is not running (or stopped while we used it)."""

    message_ja = "カードリーダーのサービスが動いていません。係員をお呼びください"


class NoReaderError(CardReaderError):
    message_ja = "カードリーダーが接続されていません。係員をお呼びください"


class NoCardError(CardReaderError):
    message_ja = "カードが置かれていません"


class CardWaitCancelledError(CardReaderError):
    message_ja = "カードの読み取りを中止しました"


class NotMyNumberCardError(CardReaderError):
    message_ja = "マイナンバーカードではありません"


class CardRemovedError(CardReaderError):
    message_ja = "読み取り中にカードが離れました。もう一度置いてください"


class CardTimeoutError(CardReaderError):
    """The watchdog fired: the card or reader did not answer an APDU in time."""

    message_ja = "カードが応答しません。もう一度置いてください"


class CardCommunicationError(CardReaderError):
    message_ja = "カードとの通信に失敗しました。もう一度置いてください"


class InvalidPinFormatError(CardReaderError, ValueError):
    message_ja = "暗証番号は数字4桁です"


class WrongPinError(CardReaderError):
    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN: {tries_left} tries left before the card is blocked")
        self.tries_left = tries_left
        self.message_ja = f"暗証番号が違います。あと{tries_left}回間違えるとロックされます"


class LastTryNotConfirmedError(CardReaderError):
    """Only one try is left: the caller must warn the resident and confirm before a PIN is sent."""

    tries_left = 1
    message_ja = "あと1回間違えるとカードがロックされます。よろしければ確認してから入力してください"


class CardBlockedError(CardReaderError):
    message_ja = "暗証番号がロックされています。市区町村の窓口でロック解除の手続きをしてください"
