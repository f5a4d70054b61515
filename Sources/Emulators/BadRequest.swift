/// A request an emulator refuses with 400 and this message, in the emulator's own error shape.
struct BadRequest: Error {
    var message: String
}
