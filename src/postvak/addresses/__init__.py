"""The address register: postal addresses by BSN, for messages that go out on paper."""
